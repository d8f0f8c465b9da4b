import RecordHeaders

/// One Kafka record header (see `RecordHeader`, which the policy reads as `EventHeader`).
public typealias KafkaHeader = RecordHeader
