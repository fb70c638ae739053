//! The raw telephony attributes a decision was made on, as the decision record keeps them for
//! training a model later.
//!
//! Exactly the attributes Connect documents ([`sip::ALL`]) and nothing else the flow passes: no other
//! block parameter, no contact attribute. Every attribute that names a party goes through the PII
//! tokenizer like every caller number in the lake: `From`, `P-Charge-Info`, `Calling-Party-Address`,
//! the forwarding number of `Call-Forwarding-Indicator`, and `To` and `Called-Party-Address` too
//! (usually the contact center's own number, but the original number of a forwarded call is a
//! person's). Each becomes the `ph_` token of the number it names (the token `ctr` and
//! `features.caller_token` hold for the same number, so they join), `anonymous` when withheld, and
//! a token of the whole value otherwise (a SIP display name or user can be a person's name). The
//! line and routing facts (`ISUP-OLI`, `JIP`, `Hop-Counter`, `Originating-Switch`,
//! `Originating-Trunk`) stay in clear; a value among them that looks like PII (a flow that maps the
//! wrong field) is tokenized all the same.

use std::borrow::Cow;

use connect_lake::contact_flow::{ContactFlowEvent, sip};
use connect_lake::pii::Tokenizer;
use serde::Serialize;

use crate::signals::HeaderIdentity;

/// The longest clear value kept; longer values are cut (they are not what a carrier sends).
pub const MAX_CLEAR_CHARS: usize = 64;

/// The documented telephony attributes of one call, as recorded. Absent attributes are left out
/// of the JSON (the table reads them as null).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CallAttributes {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_charge_info: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isup_oli: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hop_counter: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub originating_switch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub originating_trunk: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_forwarding_indicator: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calling_party_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub called_party_address: Option<String>,
}

/// What an attribute holds, which decides how its value is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holds {
    /// A SIP identity: caller, billed, called or forwarding party.
    Identity,
    /// Digits with ISUP parameters (`15555555555;noa=4`).
    PartyAddress,
    /// Line type, geography, hops, switch and trunk identifiers.
    LineFacts,
}

impl CallAttributes {
    /// The documented attributes of `event` (from the block's parameters or the contact
    /// attributes, as the signals read them), PII tokenized with `tokenizer`.
    pub fn from_event(event: &ContactFlowEvent, tokenizer: &Tokenizer) -> CallAttributes {
        let keep = |name: &str, holds: Holds| -> Option<String> {
            let raw = event.call_attribute(name)?.trim();
            Some(match holds {
                Holds::LineFacts => clear(tokenizer, raw),
                Holds::Identity => party(tokenizer, raw, HeaderIdentity::parse(raw)),
                Holds::PartyAddress => party(tokenizer, raw, HeaderIdentity::parse_party_address(raw)),
            })
        };
        CallAttributes {
            p_charge_info: keep(sip::P_CHARGE_INFO, Holds::Identity),
            from: keep(sip::FROM, Holds::Identity),
            to: keep(sip::TO, Holds::Identity),
            isup_oli: keep(sip::ISUP_OLI, Holds::LineFacts),
            jip: keep(sip::JIP, Holds::LineFacts),
            hop_counter: keep(sip::HOP_COUNTER, Holds::LineFacts),
            originating_switch: keep(sip::ORIGINATING_SWITCH, Holds::LineFacts),
            originating_trunk: keep(sip::ORIGINATING_TRUNK, Holds::LineFacts),
            call_forwarding_indicator: keep(sip::CALL_FORWARDING_INDICATOR, Holds::Identity),
            calling_party_address: keep(sip::CALLING_PARTY_ADDRESS, Holds::PartyAddress),
            called_party_address: keep(sip::CALLED_PARTY_ADDRESS, Holds::PartyAddress),
        }
    }
}

/// A party: the phone token of its number, `anonymous`, or a token of the whole value.
fn party(tokenizer: &Tokenizer, raw: &str, identity: Option<HeaderIdentity>) -> String {
    match identity {
        Some(HeaderIdentity::Number(n)) => match tokenizer.phone(&n) {
            Some(t) => t.token,
            None => tokenizer.tokenize_always(raw).into_owned(),
        },
        Some(HeaderIdentity::Anonymous) => "anonymous".to_owned(),
        Some(HeaderIdentity::Digits(d)) => tokenizer.tokenize_always(&d).into_owned(),
        Some(HeaderIdentity::Other) | None => tokenizer.tokenize_always(raw).into_owned(),
    }
}

/// A line fact in clear, unless it looks like PII; cut to [`MAX_CLEAR_CHARS`].
fn clear(tokenizer: &Tokenizer, raw: &str) -> String {
    match tokenizer.scrub(raw) {
        Cow::Owned(token) => token,
        Cow::Borrowed(value) => value.chars().take(MAX_CLEAR_CHARS).collect(),
    }
}
