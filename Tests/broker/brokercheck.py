"""Source events and the committed view of output topics, for Tests/BrokerIntegrationTests.

    brokercheck.py produce --bootstrap B --prefix P [--confirmations N] [--counts N] [--readings N] [--rate R]
    brokercheck.py read --bootstrap B --topics T1,T2 [--until T=PREFIX:N ...] [--timeout S]
    brokercheck.py kill-mid-transaction --bootstrap B --pid PID --topics T1,T2
    brokercheck.py transactions --bootstrap B --topic T   (committed, aborted and open transactions for the checker's self-test)

`read` prints one JSON object: per topic, every committed record (source-event-id, idempotency-key,
whether it was written in a transaction, partition, offset) and how many records were aborted or
are still in an open transaction.

Why not a read_committed consumer: tansu 0.6 writes commit and abort markers into the log but
answers Fetch with an empty aborted-transactions list, so librdkafka's (and kafka-python's)
read_committed consumers deliver records of aborted transactions as if committed. This reader
fetches raw record batches (kafka-python's protocol classes, isolation read_uncommitted) and
applies the markers itself, the way a Kafka broker's aborted-transaction index would: a
transactional batch is held per producer id until that producer's next control batch says commit
(kept) or abort (dropped); what no marker resolves is an open transaction (not committed).
Non-transactional batches (at-least-once lanes) are committed as written.
"""
import argparse
import json
import sys
import time

from kafka.net.compat import KafkaNetClient
from kafka.protocol.consumer.fetch import FetchRequest
from kafka.record.memory_records import MemoryRecords

MES_SOURCE = "plant/hamburg/mes"
GATEWAY_SOURCE = "plant/hamburg/gateway/l1"
EVENT_TIME = "2026-03-01T08:00:00Z"


# ---- produce ---------------------------------------------------------------------------------
def event(kind, prefix, index):
    """(topic, key, value, headers) of the index-th event of a kind; ids are `<prefix>-<kind>-<index>`."""
    event_id = f"{prefix}-{kind}-{index}"
    if kind == "confirmation":
        work_order = f"WO-{5000 + index % 50}"
        body = {"workOrderId": work_order, "line": "L1", "product": "SKU-4711-500ML", "quantity": 100,
                "unit": "EA", "final": False}
        topic, key, source, ce_type = "plant.production.confirmations", work_order, MES_SOURCE, "production.confirmation.posted"
    elif kind == "count":
        asset = f"L1-FILL{index % 6}"
        body = {"asset": asset, "line": "L1", "good": 60, "scrap": 1, "intervalSeconds": 30}
        topic, key, source, ce_type = "plant.production.counts", asset, GATEWAY_SOURCE, "production.count.reported"
    elif kind == "reading":
        asset = f"L1-FILL{index % 40}"
        # temperature: routed to analytics only (no window rule), one output per reading.
        body = {"asset": asset, "line": "L1", "metric": "temperature", "value": 61.5, "unit": "Cel", "quality": "good"}
        topic, key, source, ce_type = "plant.telemetry.readings", asset, GATEWAY_SOURCE, "plant.telemetry.reading"
    else:
        raise ValueError(kind)
    headers = [("ce_specversion", b"1.0"), ("ce_id", event_id.encode()), ("ce_source", source.encode()),
               ("ce_type", ce_type.encode()), ("ce_time", EVENT_TIME.encode()), ("content-type", b"application/json")]
    return topic, key.encode(), json.dumps(body, separators=(",", ":")).encode(), headers


def produce(args):
    from confluent_kafka import Producer
    kinds = [("confirmation", args.confirmations), ("count", args.counts), ("reading", args.readings)]
    # Interleaved, so every lane is busy for the whole run.
    order = []
    longest = max(n for _, n in kinds)
    for i in range(longest):
        order += [(kind, args.first + i) for kind, n in kinds if i < n]
    failures = []
    producer = Producer({"bootstrap.servers": args.bootstrap, "enable.idempotence": True, "linger.ms": 5})

    def delivered(err, _msg):
        if err is not None:
            failures.append(str(err))

    started = time.monotonic()
    for sent, (kind, i) in enumerate(order):
        topic, key, value, headers = event(kind, args.prefix, i)
        while True:
            try:
                producer.produce(topic, key=key, value=value, headers=headers, on_delivery=delivered)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
        if args.rate:
            ahead = (sent + 1) / args.rate - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)
    remaining = producer.flush(60)
    if remaining or failures:
        print(f"produce: {remaining} undelivered, {len(failures)} failed: {failures[:3]}", file=sys.stderr)
        return 1
    print(json.dumps({"produced": len(order), "seconds": round(time.monotonic() - started, 2)}))
    return 0


# ---- read what is committed ------------------------------------------------------------------
class PartitionReader:
    """Reads one partition from offset 0 on, applying transaction markers (see the module doc)."""

    def __init__(self, topic, partition):
        self.topic, self.partition = topic, partition
        self.offset = 0
        self.open = {}        # producer id -> records of its open transaction
        self.committed = []   # [source-event-id, idempotency-key, transactional, partition, offset]
        self.aborted = 0

    def add(self, batch):
        if batch.is_control_batch:
            held = self.open.pop(batch.producer_id, [])
            for record in batch:
                if record.commit:
                    self.committed += held
                else:
                    self.aborted += len(held)
            return
        rows = []
        for record in batch:
            headers = {name: value.decode("utf-8", "replace") for name, value in record.headers or []}
            rows.append([headers.get("source-event-id"), headers.get("idempotency-key"),
                         batch.is_transactional, self.partition, record.offset])
        if batch.is_transactional:
            self.open.setdefault(batch.producer_id, []).extend(rows)
        else:
            self.committed += rows

    @property
    def pending(self):
        return sum(len(rows) for rows in self.open.values())


class LogReader:
    def __init__(self, bootstrap, topics):
        self.client = KafkaNetClient(bootstrap_servers=[bootstrap], client_id="brokercheck")
        self.client.check_version()
        self.node = self.client.least_loaded_node()
        partitions = self.partitions(topics)
        self.readers = {topic: [PartitionReader(topic, p) for p in partitions[topic]] for topic in topics}

    def partitions(self, topics):
        self.client.cluster.request_update()
        for _ in range(100):
            self.client.poll(timeout_ms=100)
            found = {t: self.client.cluster.partitions_for_topic(t) for t in topics}
            if all(found.values()):
                return {t: sorted(p) for t, p in found.items()}
            self.client.cluster.set_topics(topics)
            self.client.cluster.request_update()
        raise RuntimeError(f"no metadata for {topics}")

    def fetch(self, reader):
        """One Fetch from the reader's offset; the number of batches read. Reads until a fetch is
        empty rather than up to the high watermark, which tansu reports short (DESIGN.md)."""
        topic = FetchRequest.FetchTopic
        request = FetchRequest(
            replica_id=-1, max_wait_ms=20, min_bytes=1, max_bytes=4 << 20, isolation_level=0,
            topics=[topic(topic=reader.topic, partitions=[topic.FetchPartition(
                partition=reader.partition, fetch_offset=reader.offset, partition_max_bytes=4 << 20,
                current_leader_epoch=-1, log_start_offset=-1, last_fetched_epoch=-1)])],
            forgotten_topics_data=[], rack_id="", max_version=11)
        # tansu answers max_wait_ms=0 with no topics at all: wait a little, and ask again if so.
        for _ in range(5):
            response = self.client.send_and_receive(self.node, request)
            if response.responses:
                break
        else:
            raise RuntimeError(f"fetch {reader.topic}/{reader.partition}: empty responses")
        data = response.responses[0].partitions[0]
        if data.error_code:
            raise RuntimeError(f"fetch {reader.topic}/{reader.partition}@{reader.offset}: error {data.error_code}")
        if not data.records:
            return 0
        records, batches = MemoryRecords(data.records), 0
        while records.has_next():
            batch = records.next_batch()
            if batch is None:
                break
            if batch.next_offset <= reader.offset:
                continue
            reader.add(batch)
            reader.offset = batch.next_offset
            batches += 1
        return batches

    def catch_up(self):
        for readers in self.readers.values():
            for reader in readers:
                while self.fetch(reader):
                    pass

    def sources(self, topic, prefix):
        return {row[0] for r in self.readers[topic] for row in r.committed if row[0] and row[0].startswith(prefix)}

    def report(self):
        out = {}
        for topic, readers in self.readers.items():
            out[topic] = {
                "records": [row for r in readers for row in r.committed],
                "aborted": sum(r.aborted for r in readers),
                "pending": sum(r.pending for r in readers),
            }
        return out


def read(args):
    topics = args.topics.split(",")
    until = []
    for spec in args.until or []:
        topic, rest = spec.split("=", 1)
        prefix, count = rest.rsplit(":", 1)
        until.append((topic, prefix, int(count)))
    started = time.monotonic()
    reader = LogReader(args.bootstrap, topics)
    reader.catch_up()
    complete = all(len(reader.sources(t, p)) >= n for t, p, n in until)
    while not complete and time.monotonic() - started < args.timeout:
        time.sleep(0.5)
        reader.catch_up()
        complete = all(len(reader.sources(t, p)) >= n for t, p, n in until)
    print(json.dumps({"complete": complete, "seconds": round(time.monotonic() - started, 2), "topics": reader.report()}))
    return 0


# ---- a SIGKILL that provably lands inside a transaction ------------------------------------------
def kill_mid_transaction(args):
    """Freezes the process (SIGSTOP), reads the log, and SIGKILLs it only if one of its
    transactions has records on the broker and no marker yet; else lets it go on (SIGCONT) and
    tries again. A frozen process sends nothing, so what the log shows is what the kill leaves.
    Prints {"killed", "attempts", "open"}: open = records of transactions the kill left open."""
    import os
    import random
    import signal
    reader = LogReader(args.bootstrap, args.topics.split(","))
    # Any open transaction counts: the caller waits until the process committed some, by when its
    # InitProducerId has fenced (aborted) whatever an earlier run of its transactional id left open.
    for attempt in range(1, args.attempts + 1):
        os.kill(args.pid, signal.SIGSTOP)
        try:
            time.sleep(0.05)  # an EndTxn already on the wire lands now, or not at all
            reader.catch_up()
        except BaseException:
            os.kill(args.pid, signal.SIGCONT)  # never leave the router frozen
            raise
        open_records = sum(r.pending for rs in reader.readers.values() for r in rs)
        if open_records:
            os.kill(args.pid, signal.SIGKILL)
            print(json.dumps({"killed": True, "attempts": attempt, "open": open_records}))
            return 0
        os.kill(args.pid, signal.SIGCONT)
        time.sleep(random.uniform(0.02, 0.2))
    print(json.dumps({"killed": False, "attempts": args.attempts, "open": 0}))
    return 0


# ---- checker self-test -----------------------------------------------------------------------
def transactions(args):
    """Writes 4 committed, 3 aborted and 2 never-ended transactional records, and what
    librdkafka's read_committed consumer makes of them on this broker."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": args.bootstrap})
    for future in admin.create_topics([NewTopic(args.topic, 1, 1)]).values():
        future.result(30)

    def write(producer, kind, n, end):
        producer.begin_transaction()
        for i in range(n):
            producer.produce(args.topic, value=b"x", headers=[("source-event-id", f"{kind}-{i}".encode()),
                                                               ("idempotency-key", f"key-{kind}-{i}".encode())])
        producer.flush(30)
        if end == "commit":
            producer.commit_transaction(30)
        elif end == "abort":
            producer.abort_transaction(30)

    producer = Producer({"bootstrap.servers": args.bootstrap, "transactional.id": "brokercheck-self-test"})
    producer.init_transactions(30)
    write(producer, "committed", 4, "commit")
    write(producer, "aborted", 3, "abort")
    write(producer, "open", 2, None)  # left open: never committed, never aborted
    consumer = Consumer({"bootstrap.servers": args.bootstrap, "group.id": "brokercheck-self-test",
                         "isolation.level": "read_committed", "enable.auto.commit": False})
    consumer.assign([TopicPartition(args.topic, 0, OFFSET_BEGINNING)])
    seen, deadline = [], time.monotonic() + 20
    while time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is None:
            if seen:
                break
            continue
        if message.error() is None:
            seen.append(dict(message.headers() or [])["source-event-id"].decode())
    consumer.close()
    print(json.dumps({"readCommittedConsumerSaw": seen}))
    return 0


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("produce")
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--prefix", required=True)
    p.add_argument("--confirmations", type=int, default=0)
    p.add_argument("--counts", type=int, default=0)
    p.add_argument("--readings", type=int, default=0)
    p.add_argument("--rate", type=float, default=0, help="events per second in all; 0: as fast as possible")
    p.add_argument("--first", type=int, default=0, help="index of the first event of each kind (ids <prefix>-<kind>-<index>)")
    r = sub.add_parser("read")
    r.add_argument("--bootstrap", required=True)
    r.add_argument("--topics", required=True)
    r.add_argument("--until", action="append", help="TOPIC=SOURCE_ID_PREFIX:N: wait until N distinct sources are committed")
    r.add_argument("--timeout", type=float, default=60)
    k = sub.add_parser("kill-mid-transaction")
    k.add_argument("--bootstrap", required=True)
    k.add_argument("--pid", type=int, required=True)
    k.add_argument("--topics", required=True)
    k.add_argument("--attempts", type=int, default=50)
    t = sub.add_parser("transactions")
    t.add_argument("--bootstrap", required=True)
    t.add_argument("--topic", required=True)
    args = parser.parse_args()
    commands = {"produce": produce, "read": read, "kill-mid-transaction": kill_mid_transaction, "transactions": transactions}
    return commands[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
