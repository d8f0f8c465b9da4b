/// Placeholder until the policy engine lands.
public enum PolicyModule {}
