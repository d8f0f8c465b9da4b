"""Hand-written Python router on confluent-kafka: poll, route, produce, commit (at least once).

Usage: confluent_router.py BOOTSTRAP GROUP
"""
import signal
import sys

from confluent_kafka import Consumer, Producer

from plantpolicy import Router, SOURCE_TOPICS, load_workorders

bootstrap, group = sys.argv[1], sys.argv[2]
FETCH_WAIT_MS = int(sys.argv[3]) if len(sys.argv) > 3 else 500  # see Benchmarks/README.md
COMPRESSION = sys.argv[4] if len(sys.argv) > 4 else "none"  # the router's output compression, like for like
router = Router()
common = {"bootstrap.servers": bootstrap}

load_workorders(router, bootstrap, group)

consumer = Consumer({**common, "group.id": group, "auto.offset.reset": "earliest", "session.timeout.ms": 6000, "fetch.wait.max.ms": FETCH_WAIT_MS,
                     "enable.auto.commit": True, "enable.auto.offset.store": False})
producer = Producer({**common, "linger.ms": 5, "enable.idempotence": True, "compression.codec": COMPRESSION})
consumer.subscribe(SOURCE_TOPICS)
running = True


def stop(*_):
    global running
    running = False


signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
while running:
    msgs = consumer.consume(500, 0.1)
    for m in msgs:
        if m.error():
            continue
        for topic, key, value, headers in router.route(m.topic(), m.key(), m.value(), m.headers()):
            while True:
                try:
                    producer.produce(topic, value, key, headers=headers)
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
