"""Raw consume -> produce pipe, no processing: every source record copied to bench.pipe.<topic>
as is (key, value, headers). The ceiling: what one librdkafka client pair does on this broker
from Python. Usage: raw_pipe.py BOOTSTRAP GROUP [FETCH_WAIT_MS] [COMPRESSION]
"""
import signal
import sys

from confluent_kafka import Consumer, Producer

from plantpolicy import SOURCE_TOPICS

bootstrap, group = sys.argv[1], sys.argv[2]
FETCH_WAIT_MS = int(sys.argv[3]) if len(sys.argv) > 3 else 500  # see Benchmarks/README.md
COMPRESSION = sys.argv[4] if len(sys.argv) > 4 else "none"  # the router's output compression, like for like
consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                     "session.timeout.ms": 6000, "fetch.wait.max.ms": FETCH_WAIT_MS, "enable.auto.commit": True, "enable.auto.offset.store": False})
producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "enable.idempotence": True,
                     "compression.codec": COMPRESSION})
consumer.subscribe(SOURCE_TOPICS)
running = True


def stop(*_):
    global running
    running = False


signal.signal(signal.SIGTERM, stop)
while running:
    msgs = consumer.consume(1000, 0.1)
    for m in msgs:
        if m.error():
            continue
        while True:
            try:
                producer.produce("bench.pipe", m.value(), m.key(), headers=m.headers())
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    if msgs:
        producer.flush()
        for m in msgs:
            consumer.store_offsets(m)
producer.flush()
consumer.close()
