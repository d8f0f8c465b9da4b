print("benchmarks land with the Kafka layer")
