"""The same router on quixstreams: one StreamingDataFrame per source topic, the shared policy
function expands each event into its outputs, dynamic to_topic picks the target.

Usage: quix_router.py BOOTSTRAP GROUP
"""
import sys

from quixstreams import Application
from quixstreams.models.serializers import Serializer

from plantpolicy import Router, SOURCE_TOPICS, load_workorders

TARGETS = ["analytics.telemetry", "analytics.production", "maintenance.work.requests", "qms.inspection.requests",
           "erp.production.exceptions", "erp.production.confirmations", "erp.inventory.movements", "tms.shipment.replans"]


class OutputBody(Serializer):
    """Outputs are (topic, key, body bytes, headers) tuples; the record value is the body."""

    def __call__(self, value, ctx):
        return value[2]


bootstrap, group = sys.argv[1], sys.argv[2]
FETCH_WAIT_MS = int(sys.argv[3]) if len(sys.argv) > 3 else 500  # see Benchmarks/README.md
router = Router()
load_workorders(router, bootstrap, group)

app = Application(broker_address=bootstrap, consumer_group=group, auto_offset_reset="earliest",
                  consumer_extra_config={"session.timeout.ms": 6000, "fetch.wait.max.ms": FETCH_WAIT_MS}, auto_create_topics=False,
                  use_changelog_topics=False, commit_interval=1.0)
outputs = {t: app.topic(t, key_serializer="bytes", value_serializer=OutputBody()) for t in TARGETS}

for name in SOURCE_TOPICS:
    sdf = app.dataframe(app.topic(name, key_deserializer="bytes", value_deserializer="bytes"))
    sdf = sdf.apply(lambda value, key, ts, headers, topic=name: router.route(topic, key, value, headers),
                    metadata=True, expand=True)
    sdf = sdf.set_headers(lambda value, key, ts, headers: value[3])
    sdf.to_topic(lambda value, key, ts, headers: outputs[value[0]], key=lambda value: value[1])

app.run()
