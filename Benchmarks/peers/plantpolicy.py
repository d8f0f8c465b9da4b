"""The default policy (Topics/policy.yaml) hand-written in Python, the way a plant IT team
would: one function per source topic, dicts for state. Shared by the confluent-kafka and the
quixstreams routers so both make exactly the same decisions.

Outcomes match PlantRouter's for the simulated workload (same target topics, counts, keys):
first matching rule decides; windowed rules keep per-asset state; edge triggers re-arm when the
condition is false; a rule whose condition is false falls through to the next one.
Not reimplemented (documented in Benchmarks/README.md): JSON-schema validation, source
authority checks, dead letters, audit trail, idempotency ledger, transactions.
"""
import json
from bisect import insort
from datetime import datetime

POLICY_VERSION = "2026.03.1"
WINDOW_MS = 5 * 60 * 1000
LATENESS_MS = 30 * 1000


def event_time_ms(text):
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


class TimeWindow:
    __slots__ = ("entries", "newest", "armed")

    def __init__(self):
        self.entries = []  # sorted (time, value)
        self.newest = None
        self.armed = True

    def add(self, t, v):
        if self.newest is not None and t < self.newest - LATENESS_MS:
            return False
        insort(self.entries, (t, v))
        self.newest = t if self.newest is None else max(self.newest, t)
        horizon = self.newest - WINDOW_MS
        i = 0
        while i < len(self.entries) and self.entries[i][0] <= horizon:
            i += 1
        if i:
            del self.entries[:i]
        return True

    def avg(self):
        return sum(v for _, v in self.entries) / len(self.entries)


class CountWindow:
    __slots__ = ("values", "armed")

    def __init__(self):
        self.values = []
        self.armed = True

    def add(self, v):
        self.values.append(v)
        if len(self.values) > 10:
            del self.values[0]


class Router:
    """route(topic, key, value, headers) -> list of (target_topic, key, value_bytes, headers)."""

    def __init__(self):
        self.workorders = {}  # asset -> active work order dict
        self.throughput = {}
        self.vibration = {}

    # ---- correlation ---------------------------------------------------------------------
    def load_workorder(self, value):
        if not value:
            return
        o = json.loads(value)
        if o.get("status") in ("running", "released"):
            self.workorders[o["asset"]] = o
        else:
            cur = self.workorders.get(o["asset"])
            if cur and cur["workOrderId"] == o["workOrderId"]:
                del self.workorders[o["asset"]]

    # ---- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _out(topic, key, ce_type, rule, ev, payload, correlation=None):
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = [
            ("ce_specversion", b"1.0"),
            ("ce_id", f"{ev['id']}/{rule}/{topic}".encode()),
            ("ce_source", b"python-router"),
            ("ce_type", ce_type.encode()),
            ("content-type", b"application/json"),
            ("policy-version", POLICY_VERSION.encode()),
            ("rule-id", rule.encode()),
            ("source-event-id", ev["id"].encode()),
            ("ce_time", ev["time"].encode()),
        ]
        if correlation:
            headers.append(("correlation-id", correlation.encode()))
        return (topic, key.encode() if isinstance(key, str) else key, body, headers)

    @staticmethod
    def _analytics(topic, key, value, ev, rule):
        headers = [(k, v) for k, v in ev["headers"]] + [
            ("policy-version", POLICY_VERSION.encode()),
            ("rule-id", rule.encode()),
            ("source-event-id", ev["id"].encode()),
        ]
        return [(topic, key, value, headers)]

    # ---- the policy --------------------------------------------------------------------------
    def route(self, topic, key, value, headers):
        h = {}
        for k, v in headers or ():
            h[k] = v
        ev = {
            "id": h.get("ce_id", b"").decode(),
            "type": h.get("ce_type", b"").decode(),
            "source": h.get("ce_source", b"").decode(),
            "time": h.get("ce_time", b"").decode(),
            "headers": headers or [],
        }
        p = json.loads(value)
        t = ev["type"]
        if topic == "plant.telemetry.readings":
            if t != "plant.telemetry.reading":
                return []
            metric = p.get("metric")
            asset = p.get("asset")
            if metric == "throughput":
                wo = self.workorders.get(asset)
                w = self.throughput.get(asset)
                if w is None:
                    w = self.throughput[asset] = TimeWindow()
                if w.add(event_time_ms(ev["time"]), float(p["value"])):
                    holds = (wo is not None and wo["status"] == "running" and len(w.entries) >= 3
                             and w.avg() < 0.9 * wo["requiredRatePerMinute"])
                    if not holds:
                        w.armed = True
                    elif w.armed:
                        w.armed = False
                        return self._slowdown(p, wo, w.avg(), ev)
            elif metric == "vibration":
                w = self.vibration.get(asset)
                if w is None:
                    w = self.vibration[asset] = CountWindow()
                w.add(float(p["value"]))
                holds = sum(1 for v in w.values if v > 7.1) >= 3
                if not holds:
                    w.armed = True
                elif w.armed:
                    w.armed = False
                    return [self._out("maintenance.work.requests", asset, "maintenance.work.requested", "vibration-alarm", ev,
                                      {"asset": asset, "line": p.get("line"), "reason": "vibration_alarm", "priority": "normal",
                                       "observedValue": max(w.values), "sourceEventId": ev["id"]})]
            return self._analytics("analytics.telemetry", key, value, ev, "telemetry-to-analytics")

        if topic == "plant.machine.state":
            if t == "machine.downtime.started" and p.get("category") == "unplanned":
                wo = self.workorders.get(p.get("asset")) or {}
                return [self._out("maintenance.work.requests", p["asset"], "maintenance.work.requested", "unplanned-downtime-to-maintenance", ev,
                                  {"asset": p["asset"], "line": p.get("line"), "reason": "unplanned_downtime", "priority": "high",
                                   "reasonCode": p.get("reasonCode"), "workOrderId": wo.get("workOrderId"), "sourceEventId": ev["id"]},
                                  wo.get("workOrderId"))]
            if t in ("machine.state.changed", "machine.downtime.started"):
                return self._analytics("analytics.production", key, value, ev, "machine-state-to-analytics")
            return []  # heartbeats dropped

        if topic == "plant.quality.results":
            if t == "quality.defect.detected":
                wo = self.workorders.get(p.get("asset")) or {}
                serious = p.get("severity") in ("major", "critical")
                return [self._out("qms.inspection.requests", p["asset"], "qms.inspection.requested",
                                  "serious-defects-to-qms" if serious else "minor-defects-to-qms", ev,
                                  {"reason": "defect_detected", "asset": p["asset"], "line": p.get("line"),
                                   "priority": "high" if serious else "normal", "defectCode": p.get("defectCode"),
                                   "severity": p.get("severity"), "workOrderId": wo.get("workOrderId"), "sourceEventId": ev["id"]},
                                  wo.get("workOrderId"))]
            if t == "quality.inspection.completed":
                if p.get("result") == "fail":
                    return [self._out("qms.inspection.requests", p["asset"], "qms.inspection.requested", "failed-inspection-to-qms", ev,
                                      {"reason": "inspection_failed", "asset": p["asset"], "line": p.get("line"), "priority": "high",
                                       "characteristic": p.get("characteristic"), "workOrderId": p.get("workOrderId"),
                                       "sourceEventId": ev["id"]})]
                return self._analytics("analytics.production", key, value, ev, "inspections-to-analytics")
            return []

        if topic == "plant.production.confirmations":
            if t == "production.confirmation.posted" and ev["source"].startswith("plant/") and ev["source"].endswith("/mes"):
                wid = p.get("workOrderId")
                common = {"product": p.get("product"), "quantity": p.get("quantity"), "unit": p.get("unit")}
                return [
                    self._out("erp.production.confirmations", key, "erp.production.confirmation.received", "confirmations-to-erp", ev,
                              {"workOrderId": wid, "line": p.get("line"), **common, "final": p.get("final"), "sourceEventId": ev["id"]}),
                    self._out("erp.inventory.movements", key, "erp.inventory.movement.requested", "confirmations-to-erp", ev,
                              {"movementType": "goods_receipt", **common, "workOrderId": wid, "sourceEventId": ev["id"]}),
                ]
            return []

        if topic == "plant.production.counts":
            if t == "production.count.reported":
                return self._analytics("analytics.production", key, value, ev, "counts-to-analytics")
            return []
        return []

    def _slowdown(self, p, wo, avg, ev):
        rule = "packaging-line-slowdown"
        wid = wo["workOrderId"]
        return [
            self._out("erp.production.exceptions", wid, "erp.production.exception.raised", rule, ev,
                      {"exceptionType": "throughput_below_plan", "workOrderId": wid, "asset": p["asset"], "line": p.get("line"),
                       "product": wo.get("product"), "observedRatePerMinute": avg,
                       "requiredRatePerMinute": wo["requiredRatePerMinute"], "detectedAt": ev["time"], "sourceEventId": ev["id"]}, wid),
            self._out("qms.inspection.requests", p["asset"], "qms.inspection.requested", rule, ev,
                      {"reason": "throughput_below_plan", "asset": p["asset"], "line": p.get("line"), "priority": "normal",
                       "workOrderId": wid, "sourceEventId": ev["id"]}, wid),
            self._out("maintenance.work.requests", p["asset"], "maintenance.work.requested", rule, ev,
                      {"asset": p["asset"], "line": p.get("line"), "reason": "throughput_below_plan", "priority": "high",
                       "workOrderId": wid, "observedValue": avg, "sourceEventId": ev["id"]}, wid),
            self._out("tms.shipment.replans", wo.get("shipmentId") or "", "tms.shipment.replan.requested", rule, ev,
                      {"shipmentId": wo.get("shipmentId"), "workOrderId": wid, "reason": "production_behind_plan",
                       "dueAt": wo.get("dueAt"), "observedRatePerMinute": avg,
                       "requiredRatePerMinute": wo["requiredRatePerMinute"], "sourceEventId": ev["id"]}, wid),
        ]


SOURCE_TOPICS = ["plant.telemetry.readings", "plant.machine.state", "plant.production.counts",
                 "plant.production.confirmations", "plant.quality.results"]


def load_workorders(router, bootstrap, group):
    """Reads the compacted mes.workorders topic to its end into the router (before routing)."""
    from confluent_kafka import Consumer, TopicPartition
    wo = Consumer({"bootstrap.servers": bootstrap, "group.id": group + "-wo", "enable.auto.commit": False,
                   "enable.partition.eof": True})
    parts = wo.list_topics("mes.workorders", timeout=10).topics["mes.workorders"].partitions
    wo.assign([TopicPartition("mes.workorders", p, 0) for p in parts])
    remaining = len(parts)
    while remaining:
        m = wo.poll(1.0)
        if m is None:
            continue
        if m.error():
            remaining -= 1
            continue
        router.load_workorder(m.value())
    wo.close()
