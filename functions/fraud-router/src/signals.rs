//! Risk signals from a contact-flow event's telephony call attributes.
//!
//! [`CallFacts::from_event`] reads what the call says about itself (caller number, the `From`
//! identity, originating line, geography, remaining hops, forwarding) without judging it;
//! [`CallFacts::reasons`] turns the facts into reason codes under a policy's parameters. Facts are
//! logged with each decision (without raw numbers) as training data; reasons drive the score.
//!
//! Only the attributes Connect documents are read ([`sip`]): `P-Asserted-Identity` is not one of
//! them, so no signal rests on it. Every attribute may be missing or empty, and carriers format
//! them loosely: a value that does not parse is an absent signal, never an error.

use connect_lake::contact_flow::{ContactFlowEvent, sip};
use connect_lake::pii::{calling_code, normalize_e164};
use serde::Serialize;

/// A reason code: why a call scored what it did. The codes are stable: they are the keys of a
/// policy's `weights`, appear in answers, logs and metric dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    DenyList,
    CallerMissing,
    CallerWithheld,
    CallerNotE164,
    FromMismatch,
    OliPayphone,
    OliInmate,
    OliCellular,
    OliRoaming,
    OliHotel,
    OliRelay,
    OliOperator,
    OliAniFailure,
    OliUnassigned,
    JipMismatch,
    HopCounter,
    IntlForwarding,
    HighRiskCountry,
}

impl Reason {
    /// Every reason, in the order answers list them.
    pub const ALL: [Reason; 18] = [
        Reason::DenyList,
        Reason::CallerMissing,
        Reason::CallerWithheld,
        Reason::CallerNotE164,
        Reason::FromMismatch,
        Reason::OliPayphone,
        Reason::OliInmate,
        Reason::OliCellular,
        Reason::OliRoaming,
        Reason::OliHotel,
        Reason::OliRelay,
        Reason::OliOperator,
        Reason::OliAniFailure,
        Reason::OliUnassigned,
        Reason::JipMismatch,
        Reason::HopCounter,
        Reason::IntlForwarding,
        Reason::HighRiskCountry,
    ];

    pub const fn code(self) -> &'static str {
        match self {
            Reason::DenyList => "deny_list",
            Reason::CallerMissing => "caller_missing",
            Reason::CallerWithheld => "caller_withheld",
            Reason::CallerNotE164 => "caller_not_e164",
            Reason::FromMismatch => "from_mismatch",
            Reason::OliPayphone => "oli_payphone",
            Reason::OliInmate => "oli_inmate",
            Reason::OliCellular => "oli_cellular",
            Reason::OliRoaming => "oli_roaming",
            Reason::OliHotel => "oli_hotel",
            Reason::OliRelay => "oli_relay",
            Reason::OliOperator => "oli_operator",
            Reason::OliAniFailure => "oli_ani_failure",
            Reason::OliUnassigned => "oli_unassigned",
            Reason::JipMismatch => "jip_mismatch",
            Reason::HopCounter => "hop_counter",
            Reason::IntlForwarding => "intl_forwarding",
            Reason::HighRiskCountry => "high_risk_country",
        }
    }

    pub fn from_code(code: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.code() == code)
    }

    /// Position in [`Reason::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// The originating line type, from the ISUP Originating Line Information (OLI, "ANI II digits")
/// as assigned by the North American Numbering Plan Administrator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OliClass {
    /// 00: plain old telephone service.
    Pots,
    /// 01: multiparty line, ANI cannot be provided.
    Multiparty,
    /// 02: ANI failure, the calling station was not identified.
    AniFailure,
    /// 06: station level rating (hotel/motel).
    Hotel,
    /// 07: special operator handling required.
    SpecialOperator,
    /// 08: interLATA restricted.
    InterlataRestricted,
    /// 20: automatic identified outward dialing (PBX).
    Aiod,
    /// 23: coin or non-coin, on calls using database access.
    CoinOrNonCoin,
    /// 24: toll-free service call.
    TollFree,
    /// 25: toll-free service call from a pay station.
    TollFreeFromPayStation,
    /// 27: coin call (network-provided payphone).
    Payphone,
    /// 29: prison/inmate service.
    Inmate,
    /// 30-32: intercept (blank, trouble, regular).
    Intercept,
    /// 34: telco operator handled call.
    OperatorHandled,
    /// 40-49: unrestricted use, locally determined by the carrier.
    CarrierLocal,
    /// 52: outward WATS.
    Outwats,
    /// 60: telecommunications relay service.
    Relay,
    /// 61: cellular/wireless PCS, type 1 trunk.
    CellularType1,
    /// 62: cellular/wireless PCS, type 2 trunk.
    CellularType2,
    /// 63: cellular/wireless PCS, roaming.
    CellularRoaming,
    /// 66: relay service from a hotel/motel.
    RelayHotel,
    /// 67: relay service from a restricted line.
    RelayRestricted,
    /// 70: private paystation (customer-owned coin telephone).
    PrivatePaystation,
    /// 93: access for private virtual network types of service.
    PrivateVirtualNetwork,
    /// 10-19: not assignable; 80-89: reserved; every other pair: unassigned. A line claiming one of
    /// these was not set by a conforming switch.
    Unassigned,
}

impl OliClass {
    /// The class of an OLI digit pair (00-99).
    pub const fn from_code(code: u8) -> OliClass {
        match code {
            0 => OliClass::Pots,
            1 => OliClass::Multiparty,
            2 => OliClass::AniFailure,
            6 => OliClass::Hotel,
            7 => OliClass::SpecialOperator,
            8 => OliClass::InterlataRestricted,
            20 => OliClass::Aiod,
            23 => OliClass::CoinOrNonCoin,
            24 => OliClass::TollFree,
            25 => OliClass::TollFreeFromPayStation,
            27 => OliClass::Payphone,
            29 => OliClass::Inmate,
            30..=32 => OliClass::Intercept,
            34 => OliClass::OperatorHandled,
            40..=49 => OliClass::CarrierLocal,
            52 => OliClass::Outwats,
            60 => OliClass::Relay,
            61 => OliClass::CellularType1,
            62 => OliClass::CellularType2,
            63 => OliClass::CellularRoaming,
            66 => OliClass::RelayHotel,
            67 => OliClass::RelayRestricted,
            70 => OliClass::PrivatePaystation,
            93 => OliClass::PrivateVirtualNetwork,
            _ => OliClass::Unassigned,
        }
    }

    /// The reason this line type scores under, if it is a risk at all.
    pub const fn reason(self) -> Option<Reason> {
        match self {
            OliClass::AniFailure => Some(Reason::OliAniFailure),
            OliClass::Hotel => Some(Reason::OliHotel),
            OliClass::SpecialOperator | OliClass::OperatorHandled => Some(Reason::OliOperator),
            OliClass::Payphone | OliClass::PrivatePaystation | OliClass::TollFreeFromPayStation => {
                Some(Reason::OliPayphone)
            }
            OliClass::Inmate => Some(Reason::OliInmate),
            OliClass::CellularType1 | OliClass::CellularType2 => Some(Reason::OliCellular),
            OliClass::CellularRoaming => Some(Reason::OliRoaming),
            OliClass::Relay | OliClass::RelayHotel | OliClass::RelayRestricted => Some(Reason::OliRelay),
            OliClass::Unassigned => Some(Reason::OliUnassigned),
            OliClass::Pots
            | OliClass::Multiparty
            | OliClass::InterlataRestricted
            | OliClass::Aiod
            | OliClass::CoinOrNonCoin
            | OliClass::TollFree
            | OliClass::Intercept
            | OliClass::CarrierLocal
            | OliClass::Outwats
            | OliClass::PrivateVirtualNetwork => None,
        }
    }
}

/// An originating line: its digit pair and class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Oli {
    pub code: u8,
    pub class: OliClass,
}

/// Parses an `ISUP-OLI` value: one or two digits (`0` and `00` are the same pair).
pub fn parse_oli(value: &str) -> Option<Oli> {
    let v = value.trim();
    if v.is_empty() || v.len() > 2 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let code: u8 = v.parse().ok()?;
    Some(Oli {
        code,
        class: OliClass::from_code(code),
    })
}

/// Words carriers and Connect use in place of a withheld number.
const WITHHELD_WORDS: [&str; 8] = [
    "anonymous",
    "restricted",
    "private",
    "unavailable",
    "unknown",
    "withheld",
    "blocked",
    "anonymous.invalid",
];

/// "ANONYMOUS" and "RESTRICTED" spelled on a keypad: some carriers send these as the number.
const WITHHELD_KEYPAD: [&str; 2] = ["266696687", "7378742833"];

fn is_withheld_word(user: &str) -> bool {
    let lower = user.trim().to_ascii_lowercase();
    WITHHELD_WORDS.contains(&lower.as_str())
}

/// Who a SIP identity header (`From`, `To`, `P-Charge-Info`, ...) names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderIdentity {
    /// An E.164 number (`sip:+12065550100@...`, `tel:+1-206-555-0100`).
    Number(String),
    /// Digits without a country code (`sip:2065550100@...`), as some carriers send national numbers.
    Digits(String),
    /// A withheld identity (`sip:anonymous@anonymous.invalid`).
    Anonymous,
    /// Anything else (a SIP user name, a host only).
    Other,
}

impl HeaderIdentity {
    /// Reads the URI of a SIP name-addr or addr-spec: `"Name" <sip:user@host;params>;tag=x`,
    /// `<tel:+1...>`, `sip:user@host`, or a bare number.
    pub fn parse(value: &str) -> Option<HeaderIdentity> {
        let value = value.trim();
        if value.is_empty() {
            return None;
        }
        let uri = match (value.find('<'), value.rfind('>')) {
            (Some(start), Some(end)) if start < end => &value[start + 1..end],
            _ => value.split(';').next().unwrap_or(value),
        };
        let uri = uri.trim();
        let has_scheme = |scheme: &str| uri.get(..scheme.len()).is_some_and(|h| h.eq_ignore_ascii_case(scheme));
        // `get` succeeded, so the scheme's length is a character boundary.
        let rest = if has_scheme("sips:") {
            &uri[5..]
        } else if has_scheme("sip:") || has_scheme("tel:") {
            &uri[4..]
        } else {
            uri
        };
        let user = rest.split('@').next().unwrap_or(rest);
        // tel URIs and some SIP users carry parameters after `;`.
        let user = user.split(';').next().unwrap_or(user).trim();
        if user.is_empty() {
            return Some(HeaderIdentity::Other);
        }
        if is_withheld_word(user) || is_withheld_word(rest) {
            return Some(HeaderIdentity::Anonymous);
        }
        let digits: String = user.chars().filter(char::is_ascii_digit).collect();
        if WITHHELD_KEYPAD
            .iter()
            .any(|k| digits.ends_with(k) && digits.len() <= k.len() + 1)
        {
            return Some(HeaderIdentity::Anonymous);
        }
        if user.starts_with('+') {
            return Some(normalize_e164(user).map_or(HeaderIdentity::Other, HeaderIdentity::Number));
        }
        let only_digits = user
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')'));
        if only_digits && !digits.is_empty() {
            Some(HeaderIdentity::Digits(digits))
        } else {
            Some(HeaderIdentity::Other)
        }
    }

    /// Reads a `Calling-Party-Address` or `Called-Party-Address`: digits with ISUP parameters, as
    /// in the guide's example `15555555555;noa=4`. Nature of address 4 is an international number,
    /// so its digits are the E.164 number without `+`; any other value reads as [`HeaderIdentity::parse`]
    /// reads it (a `+` number, a SIP or tel URI, national digits).
    pub fn parse_party_address(value: &str) -> Option<HeaderIdentity> {
        let mut parts = value.trim().split(';');
        let number = parts.next().unwrap_or_default().trim();
        let international = parts.any(|p| p.trim().eq_ignore_ascii_case("noa=4"));
        if international && !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) {
            return Some(normalize_e164(&format!("+{number}")).map_or(HeaderIdentity::Other, HeaderIdentity::Number));
        }
        HeaderIdentity::parse(value)
    }

    /// The shortest national number compared without a country code.
    const MIN_COMPARABLE_DIGITS: usize = 7;

    /// Whether this identity and the caller's E.164 number agree. `None` when it cannot be told
    /// (withheld, a user name, too few digits).
    pub fn agrees_with(&self, caller_e164: &str) -> Option<bool> {
        let caller_digits = caller_e164.trim_start_matches('+');
        match self {
            HeaderIdentity::Number(n) => Some(n == caller_e164),
            HeaderIdentity::Digits(d) if d.len() >= Self::MIN_COMPARABLE_DIGITS => {
                // National (`2065550100`), with the country code but no `+` (`12065550100`), or
                // with an international prefix (`0012065550100`).
                Some(caller_digits.ends_with(d.as_str()) || d.ends_with(caller_digits))
            }
            HeaderIdentity::Digits(_) | HeaderIdentity::Anonymous | HeaderIdentity::Other => None,
        }
    }

    /// The country calling code of a full number.
    pub fn calling_code(&self) -> Option<&str> {
        match self {
            HeaderIdentity::Number(n) => calling_code(n.get(1..)?),
            _ => None,
        }
    }

    /// A code for decision records: `number`, `digits`, `anonymous`, `other`.
    pub const fn kind(&self) -> &'static str {
        match self {
            HeaderIdentity::Number(_) => "number",
            HeaderIdentity::Digits(_) => "digits",
            HeaderIdentity::Anonymous => "anonymous",
            HeaderIdentity::Other => "other",
        }
    }
}

/// What the call says about its caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// Not a voice contact: caller signals do not apply.
    NotApplicable,
    Missing,
    Withheld,
    NotE164,
    /// A valid E.164 number.
    Number(String),
}

impl Caller {
    pub fn number(&self) -> Option<&str> {
        match self {
            Caller::Number(n) => Some(n),
            _ => None,
        }
    }

    /// A code for decision records.
    pub const fn code(&self) -> &'static str {
        match self {
            Caller::NotApplicable => "not_applicable",
            Caller::Missing => "missing",
            Caller::Withheld => "withheld",
            Caller::NotE164 => "not_e164",
            Caller::Number(_) => "number",
        }
    }

    fn from_address(address: &str) -> Caller {
        let address = address.trim();
        if address.is_empty() {
            return Caller::Missing;
        }
        match HeaderIdentity::parse_party_address(address) {
            Some(HeaderIdentity::Anonymous) => Caller::Withheld,
            Some(HeaderIdentity::Number(n)) => Caller::Number(n),
            _ => normalize_e164(address).map_or(Caller::NotE164, Caller::Number),
        }
    }
}

/// What `Call-Forwarding-Indicator` says about where a forwarded call came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forwarding {
    Domestic,
    International,
    /// Forwarded, but from where cannot be told (no number, or no home country to compare with).
    Unknown,
}

impl Forwarding {
    pub const fn code(self) -> &'static str {
        match self {
            Forwarding::Domestic => "domestic",
            Forwarding::International => "international",
            Forwarding::Unknown => "unknown",
        }
    }
}

/// Which `Hop-Counter` values are suspicious: the policy's choice, since the documentation does not
/// say. The ISUP hop counter counts down at each exchange, so a low value means few hops remain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HopDirection {
    /// Fire when the value is at most the threshold: few hops remain, the call crossed many
    /// exchanges (or was set up with a low counter).
    Low,
    /// Fire when the value is at least the threshold, for carriers whose value counts up.
    High,
}

impl HopDirection {
    pub const fn code(self) -> &'static str {
        match self {
            HopDirection::Low => "low",
            HopDirection::High => "high",
        }
    }
}

/// When the `hop_counter` reason fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HopRule {
    pub direction: HopDirection,
    pub threshold: u8,
}

impl HopRule {
    /// Whether a `Hop-Counter` value fires the rule. The threshold itself fires.
    pub fn fires(self, hop_counter: u32) -> bool {
        match self.direction {
            HopDirection::Low => hop_counter <= u32::from(self.threshold),
            HopDirection::High => hop_counter >= u32::from(self.threshold),
        }
    }
}

/// The facts of one call, before any policy judges them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallFacts {
    pub caller: Caller,
    pub from: Option<HeaderIdentity>,
    /// `ISUP-OLI`, when present and well-formed.
    pub oli: Option<Oli>,
    /// The NPA (area code) of `JIP`, when present and well-formed (6 or more digits).
    pub jip_npa: Option<String>,
    /// `Hop-Counter`: the hops the call may still take, as the ISUP hop counter counts down.
    pub hop_count: Option<u32>,
    pub forwarding: Option<Forwarding>,
    /// The contact center's own country: the calling code of the dialled number (`SystemEndpoint`,
    /// else `To`, else `Called-Party-Address`).
    pub home_calling_code: Option<String>,
}

/// The area code of a NANP number (`+1NPANXXXXXX`).
pub fn nanp_npa(e164: &str) -> Option<&str> {
    let digits = e164.strip_prefix("+1")?;
    (digits.len() == 10).then(|| digits.get(..3)).flatten()
}

fn parse_jip(value: &str) -> Option<String> {
    let digits: String = value.trim().chars().filter(|c| !matches!(c, '-' | ' ')).collect();
    (digits.len() >= 6 && digits.len() <= 10 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits[..3].to_owned())
}

fn parse_hops(value: &str) -> Option<u32> {
    value.trim().parse().ok()
}

impl CallFacts {
    /// Reads the facts of a contact-flow event. Caller facts apply to voice contacts from a telephone
    /// number (or with no endpoint at all) only.
    pub fn from_event(event: &ContactFlowEvent) -> CallFacts {
        let attr = |name| event.call_attribute(name);
        let from = attr(sip::FROM).and_then(HeaderIdentity::parse);
        // An in-app or web call (`VOIP` endpoint) has no calling number to judge.
        let non_phone_endpoint = event
            .contact_data
            .customer_endpoint
            .as_ref()
            .is_some_and(|e| !e.is_telephone() && e.address.is_some());
        let caller = if !event.is_voice() || non_phone_endpoint {
            Caller::NotApplicable
        } else {
            match event.customer_phone().or_else(|| attr(sip::CALLING_PARTY_ADDRESS)) {
                Some(address) => Caller::from_address(address),
                // No number at all, but `From` says it was withheld on purpose.
                None if matches!(from, Some(HeaderIdentity::Anonymous)) => Caller::Withheld,
                None => Caller::Missing,
            }
        };
        let home_calling_code = event
            .contact_data
            .system_endpoint
            .as_ref()
            .and_then(|e| e.address.as_deref())
            .and_then(HeaderIdentity::parse)
            .or_else(|| attr(sip::TO).and_then(HeaderIdentity::parse))
            .or_else(|| attr(sip::CALLED_PARTY_ADDRESS).and_then(HeaderIdentity::parse_party_address))
            .and_then(|h| h.calling_code().map(str::to_owned));
        let forwarding = attr(sip::CALL_FORWARDING_INDICATOR).map(|v| {
            // Usually a Diversion-style URI of the forwarding number; some carriers send a word.
            let origin = HeaderIdentity::parse(v);
            match (
                origin.as_ref().and_then(HeaderIdentity::calling_code),
                &home_calling_code,
            ) {
                (Some(origin), Some(home)) if origin == home => return Forwarding::Domestic,
                (Some(_), Some(_)) => return Forwarding::International,
                (Some(_), None) => return Forwarding::Unknown,
                (None, _) => {}
            }
            let lower = v.trim().to_ascii_lowercase();
            if lower.starts_with("international") {
                Forwarding::International
            } else if lower.starts_with("domestic") || lower.starts_with("national") {
                Forwarding::Domestic
            } else {
                Forwarding::Unknown
            }
        });
        CallFacts {
            caller,
            from,
            oli: attr(sip::ISUP_OLI).and_then(parse_oli),
            jip_npa: attr(sip::JIP).and_then(parse_jip),
            hop_count: attr(sip::HOP_COUNTER).and_then(parse_hops),
            forwarding,
            home_calling_code,
        }
    }

    /// Whether JIP places the call in the calling number's area: `None` unless both are known and
    /// the caller is a NANP number.
    pub fn jip_matches(&self) -> Option<bool> {
        let npa = nanp_npa(self.caller.number()?)?;
        Some(self.jip_npa.as_deref()? == npa)
    }

    /// The reasons these facts give under a policy's parameters, in [`Reason::ALL`] order, without
    /// duplicates. `deny_listed` comes from the deny-list check of the caller.
    pub fn reasons(&self, deny_listed: bool, hops: HopRule, high_risk_prefixes: &[String]) -> Vec<Reason> {
        let mut reasons = Vec::new();
        if deny_listed {
            reasons.push(Reason::DenyList);
        }
        match &self.caller {
            Caller::Missing => reasons.push(Reason::CallerMissing),
            Caller::Withheld => reasons.push(Reason::CallerWithheld),
            Caller::NotE164 => reasons.push(Reason::CallerNotE164),
            Caller::NotApplicable | Caller::Number(_) => {}
        }
        if let Some(caller) = self.caller.number()
            && self.from.as_ref().and_then(|h| h.agrees_with(caller)) == Some(false)
        {
            reasons.push(Reason::FromMismatch);
        }
        if let Some(reason) = self.oli.and_then(|o| o.class.reason()) {
            reasons.push(reason);
        }
        if self.jip_matches() == Some(false) {
            reasons.push(Reason::JipMismatch);
        }
        if self.hop_count.is_some_and(|h| hops.fires(h)) {
            reasons.push(Reason::HopCounter);
        }
        if self.forwarding == Some(Forwarding::International) {
            reasons.push(Reason::IntlForwarding);
        }
        if let Some(caller) = self.caller.number()
            && high_risk_prefixes.iter().any(|p| caller.starts_with(p.as_str()))
        {
            reasons.push(Reason::HighRiskCountry);
        }
        reasons.sort();
        reasons.dedup();
        reasons
    }
}
