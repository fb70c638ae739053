#!/usr/bin/env python3
"""Writes events/contact-flow-logger/*.json and events/fraud-router/*.json: Amazon Connect
contact-flow invocation events in the shape the Connect administrator guide documents
("Invoke AWS Lambda function" block), one file per case the two functions must handle.

Every phone number is from a range reserved for fiction (NANP 555-01XX, Ofcom 07700 900XXX) or a
documentation example; the deny-listed caller matches events/deny-list.txt.

Run from the repository root: python3 scripts/make_contact_flow_events.py
"""
import copy
import json
import pathlib
import random

ROOT = pathlib.Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
ACCOUNT = "012345678901"
INSTANCE = "4d5e6f70-1111-2222-3333-444455556666"
INSTANCE_ARN = f"arn:aws:connect:us-east-1:{ACCOUNT}:instance/{INSTANCE}"
CONTACT_CENTER = "+18005550199"

# The example of the Connect administrator guide ("Configure your Lambda function to parse the
# event"), field for field; only the placeholder InitiationMethod list is one value here.
DOCUMENTED = {
    "Details": {
        "ContactData": {
            "Attributes": {"exampleAttributeKey1": "exampleAttributeValue1"},
            "Channel": "VOICE",
            "ContactId": "4a573372-1f28-4e26-b97b-XXXXXXXXXXX",
            "CustomerEndpoint": {"Address": "+1234567890", "Type": "TELEPHONE_NUMBER"},
            "CustomerId": "someCustomerId",
            "Description": "someDescription",
            "InitialContactId": "4a573372-1f28-4e26-b97b-XXXXXXXXXXX",
            "InitiationMethod": "INBOUND",
            "InstanceARN": "arn:aws:connect:aws-region:1234567890:instance/c8c0e68d-2200-4265-82c0-XXXXXXXXXX",
            "LanguageCode": "en-US",
            "MediaStreams": {
                "Customer": {
                    "Audio": {
                        "StreamARN": "arn:aws:kinesisvideo::eu-west-2:111111111111:stream/instance-alias-contact-ddddddd-bbbb-dddd-eeee-ffffffffffff/9999999999999",
                        "StartTimestamp": "1571360125131",
                        "StopTimestamp": "1571360126131",
                        "StartFragmentNumber": "100",
                    }
                }
            },
            "Name": "ContactFlowEvent",
            "PreviousContactId": "4a573372-1f28-4e26-b97b-XXXXXXXXXXX",
            "Queue": {
                "ARN": "arn:aws:connect:eu-west-2:111111111111:instance/cccccccc-bbbb-dddd-eeee-ffffffffffff/queue/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
                "Name": "PasswordReset",
                "OutboundCallerId": {"Address": "+12345678903", "Type": "TELEPHONE_NUMBER"},
            },
            "References": {"key1": {"Type": "url", "Value": "urlvalue"}},
            "SystemEndpoint": {"Address": "+1234567890", "Type": "TELEPHONE_NUMBER"},
        },
        "Parameters": {
            "exampleParameterKey1": "exampleParameterValue1",
            "exampleParameterKey2": "exampleParameterValue2",
        },
    },
    "Name": "ContactFlowEvent",
}


def contact(contact_id, channel="VOICE", caller=None, method="INBOUND", queue="Billing", attributes=None):
    cd = {
        "Attributes": attributes or {},
        "Channel": channel,
        "ContactId": contact_id,
        "CustomerEndpoint": {"Address": caller, "Type": "TELEPHONE_NUMBER"} if caller else None,
        "InitialContactId": contact_id,
        "InitiationMethod": method,
        "InstanceARN": INSTANCE_ARN,
        "LanguageCode": "en-US",
        "MediaStreams": {"Customer": {"Audio": None}},
        "Name": "ContactFlowEvent",
        "PreviousContactId": contact_id,
        "Queue": {
            "ARN": f"{INSTANCE_ARN}/queue/{queue.lower()}-0000-1111-2222-333344445555",
            "Name": queue,
            "OutboundCallerId": {"Address": CONTACT_CENTER, "Type": "TELEPHONE_NUMBER"},
        }
        if queue
        else None,
        "References": {},
        "SystemEndpoint": {"Address": CONTACT_CENTER, "Type": "TELEPHONE_NUMBER"} if channel == "VOICE" else None,
        "Tags": {"aws:connect:instanceId": INSTANCE},
    }
    return {"Details": {"ContactData": cd, "Parameters": {}}, "Name": "ContactFlowEvent"}


def sip(caller, *, pai=None, from_=None, oli="00", jip=None, hops="1", forwarding="", switch="710", trunk="0235"):
    """Block parameters mapped from $.Media.Sip.Headers.*, as a flow author sets them up."""
    pai = pai or caller
    from_ = from_ or caller
    return {
        "ISUP-OLI": oli,
        "JIP": jip if jip is not None else caller[2:5] + "555",
        "Hop-Counter": hops,
        "P-Charge-Info": f"<sip:{pai}@carrier.example;user=phone>",
        "P-Asserted-Identity": f"<sip:{pai}@carrier.example;user=phone>",
        "From": f'"Caller" <sip:{from_}@carrier.example>;tag=9fxced76sl',
        "To": f"<sip:{CONTACT_CENTER}@connect.example;user=phone>",
        "Calling-Party-Address": caller,
        "Call-Forwarding-Indicator": forwarding,
        "Originating-Switch": switch,
        "Originating-Trunk": trunk,
    }


# The telephony call metadata attributes of the Connect administrator guide ("Telephony call
# metadata attributes (call attributes)"), with the guide's example values where it gives one.
# P-Asserted-Identity is not among them, so the router's fixtures do not carry it.
DOCUMENTED_TELEPHONY = {
    "P-Charge-Info": "<sip:+1234567890@carrier.example;user=phone>",
    "From": '"Caller" <sip:+1234567890@carrier.example>;tag=9fxced76sl',
    "To": "<sip:+1234567890@connect.example;user=phone>",
    "ISUP-OLI": "00",
    "JIP": "212555",
    "Hop-Counter": "0",
    "Originating-Switch": "710",
    "Originating-Trunk": "0235",
    "Call-Forwarding-Indicator": "sip:+15555555555@public-vip.us2.telphony-provider.com;reason=unconditional",
    "Calling-Party-Address": "15555555555;noa=4",
    "Called-Party-Address": "15555555555;noa=4",
}


def telephony(caller, *, billed=None, from_=None, oli="00", jip=None, hops="20", forwarding="", switch="710",
              trunk="0235"):
    """The router's block parameters: the documented attributes only, mapped from
    $.Media.Sip.Headers.*, in the guide's value formats (party addresses as digits with ;noa=4)."""
    billed = billed or caller
    from_ = from_ or caller
    digits = caller.lstrip("+")
    return {
        "P-Charge-Info": f"<sip:{billed}@carrier.example;user=phone>",
        "From": f'"Caller" <sip:{from_}@carrier.example>;tag=9fxced76sl',
        "To": f"<sip:{CONTACT_CENTER}@connect.example;user=phone>",
        "ISUP-OLI": oli,
        "JIP": jip if jip is not None else caller[2:5] + "555",
        "Hop-Counter": hops,
        "Originating-Switch": switch,
        "Originating-Trunk": trunk,
        "Call-Forwarding-Indicator": forwarding,
        "Calling-Party-Address": f"{digits};noa=4" if digits.isdigit() else caller,
        "Called-Party-Address": f"{CONTACT_CENTER.lstrip('+')};noa=4",
    }


def large_attributes():
    """About 30 KB of attributes, some of them PII that must never reach a log."""
    rng = random.Random(7)
    attrs = {
        "customerEmail": "jane.doe@example.com",
        "callbackNumber": "+1 206 555 0123",
        "accountNotes": "Customer asked to be called back on +1 (206) 555-0188 after 5pm.",
    }
    words = ["billing", "renewal", "upgrade", "router", "fiber", "outage", "refund", "loyalty", "plan", "promo"]
    i = 0
    while len(json.dumps(attrs)) < 30_000:
        attrs[f"crm_field_{i:03d}"] = " ".join(rng.choice(words) for _ in range(14))
        i += 1
    return attrs


def cases():
    benign_caller = "+12065550100"
    suspicious_caller = "+12125550147"
    denied_caller = "+12025550143"

    null_ep = contact("6f2c1a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b", method="TRANSFER", queue=None)
    cd = null_ep["Details"]["ContactData"]
    cd["CustomerEndpoint"] = None
    cd["SystemEndpoint"] = None
    cd["MediaStreams"] = None

    chat = contact("c4a1e8f0-5b6d-4c3e-9a7b-0f1e2d3c4b5a", channel="CHAT", method="API", queue="ChatSupport",
                   attributes={"customerEmail": "Jane.Doe@Example.com", "orderRef": "A-1042"})
    chat["Details"]["ContactData"]["References"] = {
        "receipt": {"Type": "ATTACHMENT", "Value": "receipt.pdf"},
        "ticket": {"Type": "URL", "Value": "https://support.example.com/t/1042"},
    }

    benign = contact("0b9c8d7e-6f5a-4b3c-2d1e-0f9a8b7c6d5e", caller=benign_caller)
    suspicious = contact("9e8d7c6b-5a4f-4e3d-2c1b-0a9f8e7d6c5b", caller=suspicious_caller, queue="Payments")
    denied = contact("1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", caller=denied_caller)
    large = contact("7d6c5b4a-3f2e-4d1c-0b9a-8f7e6d5c4b3a", caller=benign_caller, attributes=large_attributes())
    withheld = contact("2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e", caller="anonymous")
    high_risk = contact("3c4d5e6f-7a8b-4c9d-0e1f-2a3b4c5d6e7f", caller="+88351000123456")

    benign_sip = sip(benign_caller)
    suspicious_sip = sip(
        suspicious_caller,
        pai="+19175550123",
        from_="+19175550123",
        oli="27",
        jip="305555",
        hops="9",
        forwarding="<sip:+447700900456@gw.carrier.example>;reason=unconditional;counter=1",
        switch="555",
        trunk="0099",
    )
    denied_sip = sip(denied_caller)
    withheld_sip = sip("anonymous", jip="", oli="00")
    withheld_sip["P-Asserted-Identity"] = "<sip:anonymous@anonymous.invalid>"
    withheld_sip["From"] = '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=1928301774'
    withheld_sip["Calling-Party-Address"] = ""
    withheld_sip["P-Charge-Info"] = ""

    # The router's fixtures: the same calls, with the documented attributes only.
    benign_tel = telephony(benign_caller)
    suspicious_tel = telephony(
        suspicious_caller,
        billed="+19175550123",
        from_="+19175550123",
        oli="27",
        jip="305555",
        hops="1",
        forwarding="<sip:+447700900456@gw.carrier.example>;reason=unconditional;counter=1",
        switch="555",
        trunk="0099",
    )
    denied_tel = telephony(denied_caller)
    withheld_tel = telephony("anonymous", jip="", oli="00")
    withheld_tel["From"] = '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=1928301774'
    withheld_tel["Calling-Party-Address"] = ""
    withheld_tel["P-Charge-Info"] = ""

    flow = {"FlowName": "Inbound main", "Step": "greeting"}
    logger = {
        "aws-documented-event": copy.deepcopy(DOCUMENTED),
        "null-endpoints-and-queue": with_params(null_ep, {"FlowName": "Transfer to queue", "Step": "queue_transfer"}),
        "chat-contact": with_params(chat, {"FlowName": "Chat inbound", "Step": "greeting",
                                           "CustomerName": "Jane Doe", "ContactEmail": "jane.doe@example.com"}),
        "sip-attributes-benign": with_params(benign, {**flow, **benign_sip}),
        "sip-attributes-suspicious": with_params(suspicious, {**flow, "Step": "fraud_check", **suspicious_sip}),
        "deny-listed-caller": with_params(denied, {**flow, "Step": "deny_list_check"}),
        "large-attributes-30kb": with_params(large, {**flow, "Step": "crm_lookup", "AccountRef": "ACC-20931"}),
    }
    router = {
        "aws-documented-event": copy.deepcopy(DOCUMENTED),
        "aws-documented-telephony-attributes": with_params(DOCUMENTED, DOCUMENTED_TELEPHONY),
        "null-endpoints-and-queue": with_params(null_ep, {}),
        "chat-contact": with_params(chat, {}),
        "sip-attributes-benign": with_params(benign, benign_tel),
        "sip-attributes-suspicious": with_params(suspicious, suspicious_tel),
        "deny-listed-caller": with_params(denied, denied_tel),
        "large-attributes-30kb": with_params(large, benign_tel),
        "withheld-caller": with_params(withheld, withheld_tel),
        "high-risk-country": with_params(high_risk, {"ISUP-OLI": "", "JIP": "", "Hop-Counter": "20"}),
    }
    return {"contact-flow-logger": logger, "fraud-router": router}


def with_params(event, params):
    event = copy.deepcopy(event)
    event["Details"]["Parameters"] = dict(params)
    return event


def main():
    for function, events in cases().items():
        out = EVENTS / function
        out.mkdir(parents=True, exist_ok=True)
        for name, event in events.items():
            (out / f"{name}.json").write_text(json.dumps(event, indent=2) + "\n")
        print(f"{out.relative_to(ROOT)}: {len(events)} events")


if __name__ == "__main__":
    main()
