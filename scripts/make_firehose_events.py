#!/usr/bin/env python3
"""Writes events/firehose-transform/*.json: Firehose transformation requests built from the sample
records in functions/firehose-transform/testdata, each with expected/<name>.json giving every record's result.

Run from the repository root: python3 scripts/make_firehose_events.py
"""
import base64
import copy
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT / "functions" / "firehose-transform" / "testdata"
OUT = ROOT / "events" / "firehose-transform"
STREAM = "arn:aws:firehose:us-east-1:012345678901:deliverystream/connect-lake-ctr"
KINESIS = "arn:aws:kinesis:us-east-1:012345678901:stream/connect-ctr"
ARRIVAL = 1772964000000  # 2026-03-08T10:00:00Z


def load(name):
    return json.loads((DATA / name).read_text())


def compact(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def batch(name, records, note):
    """records: list of (raw bytes or str-as-base64-already, expected result)."""
    out, expected = [], {}
    for i, (raw, result) in enumerate(records):
        rid = f"49546986683135544286507457936321625675700192471156785{i:03d}"
        data = raw if isinstance(raw, str) else base64.b64encode(raw).decode()
        out.append({"recordId": rid, "approximateArrivalTimestamp": ARRIVAL + i, "data": data})
        expected[rid] = result
    request = {
        "invocationId": f"invocation-{name}",
        "deliveryStreamArn": STREAM,
        "sourceKinesisStreamArn": KINESIS,
        "region": "us-east-1",
        "records": out,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.json").write_text(json.dumps(request, indent=2) + "\n")
    (OUT / "expected").mkdir(exist_ok=True)
    (OUT / "expected" / f"{name}.json").write_text(json.dumps({"note": note, "results": expected}, indent=2) + "\n")


voice = load("ctr-voice-aws-sample.json")
chat = load("ctr-chat-null-endpoints.json")
task = load("ctr-task-null-queue.json")
state = load("agent-event-state-change.json")
heartbeat = load("agent-event-heartbeat.json")

batch("voice-aws-sample", [(compact(voice), "Ok")], "AWS's documented sample voice contact record")
batch(
    "chat-and-task-null-endpoints",
    [(compact(chat), "Ok"), (compact(task), "Ok")],
    "chat and task contacts: null endpoints, null agent and queue on the task",
)
batch(
    "agent-events",
    [(compact(state), "Ok"), (compact(heartbeat), "Dropped")],
    "agent events: a state change, and a heartbeat dropped by default",
)

older = copy.deepcopy(voice)
older["ContactId"] = "dddddddd-0000-4000-8000-000000000001"
older["LastUpdateTimestamp"] = "2019-08-13T20:34:00Z"
newer = copy.deepcopy(older)
newer["LastUpdateTimestamp"] = "2019-08-13T20:36:00Z"
no_id = copy.deepcopy(voice)
del no_id["ContactId"]
full = compact(voice)
batch(
    "mixed-good-and-bad",
    [
        (compact(voice), "Ok"),
        ("%%%not-base64%%%", "ProcessingFailed"),
        (b"ContactId=abc", "ProcessingFailed"),
        (b'[{"ContactId":"x"}]', "ProcessingFailed"),
        (full[: len(full) // 2], "ProcessingFailed"),
        (compact(no_id), "ProcessingFailed"),
        (b"", "ProcessingFailed"),
        (bytes([0xFF, 0xFE, 0x7B, 0x7D]), "ProcessingFailed"),
        (compact(newer), "Ok"),
        (compact(older), "Dropped"),
        (compact(chat), "Ok"),
    ],
    "good records beside bad ones (not base64, not JSON, an array, truncated, no ContactId, empty, "
    "not UTF-8) and two copies of one contact where the later LastUpdateTimestamp arrives first",
)
print("wrote", sorted(p.name for p in OUT.glob("*.json")))
