/// A change of the partitions assigned to this group member. Delivered on the
/// polling thread, inside the poll call, before the assignment changes, so a
/// handler can commit finished work for partitions it is about to lose.
public enum RebalanceEvent: Sendable {
    case assigned([TopicPartition])
    /// `lost` is true when the partitions were taken away without a clean
    /// revoke (session timeout): their offsets can no longer be committed.
    case revoked([TopicPartition], lost: Bool)
}
