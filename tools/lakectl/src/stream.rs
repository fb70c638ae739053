//! The demo's two Kinesis-fed delivery streams, and the results the transform must return for them.
//!
//! As deployed, contact records and agent events travel on their own Kinesis streams into their
//! own delivery streams (Firehose converts to Parquet with one table schema per delivery stream),
//! and firehose-transform's `EXPECTED_TABLES` fails a record of the other kind. What the
//! transform returns depends on how Firehose batched a stream: it deduplicates contact copies
//! only within one request (the copy with the greatest `LastUpdateTimestamp` wins), so an older
//! copy is `Dropped` only when its contact's latest copy is in the same request. An older copy
//! whose latest copy went in another request is `Ok` and lands in the lake, where the latest-copy
//! view removes it. The expectation is therefore computed from the very batches the demo plays.

use std::collections::HashSet;

use firehose_transform::firehose::FirehoseRequest;

use crate::generate::Traffic;

/// What one record on the stream is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamItem {
    Contact { contact_id: String, latest: bool },
    AgentEvent { heartbeat: bool },
}

/// The stream in delivery order: every record's bytes and what it is.
#[derive(Debug, Clone, Default)]
pub struct Stream {
    pub records: Vec<Vec<u8>>,
    pub items: Vec<StreamItem>,
}

fn is_heartbeat(event: &[u8]) -> bool {
    event.windows(12).any(|w| w == b"\"HEART_BEAT\"")
}

impl Stream {
    /// The contact-record stream: every copy Connect sent, in the order it sent them.
    pub fn contact_records(traffic: &Traffic) -> Self {
        let mut stream = Stream::default();
        for c in &traffic.ctrs {
            stream.records.push(c.json.clone());
            stream.items.push(StreamItem::Contact {
                contact_id: c.contact_id.clone(),
                latest: c.latest,
            });
        }
        stream
    }

    /// The agent-event stream: every event in order, heartbeats included.
    pub fn agent_events(traffic: &Traffic) -> Self {
        let mut stream = Stream::default();
        for e in &traffic.agent_events {
            stream.records.push(e.clone());
            stream.items.push(StreamItem::AgentEvent {
                heartbeat: is_heartbeat(e),
            });
        }
        stream
    }

    /// Heartbeats on the stream (the transform drops them by default).
    pub fn heartbeats(&self) -> usize {
        self.items
            .iter()
            .filter(|i| matches!(i, StreamItem::AgentEvent { heartbeat: true }))
            .count()
    }
}

/// The results the transform must return for a stream played as `requests`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Expected {
    pub ok: usize,
    pub dropped: usize,
    /// Older copies whose latest copy was in another request: `Ok`, and in the lake.
    pub older_copies_in_lake: usize,
}

impl Expected {
    /// Walks `requests` (which hold `stream`'s records in order, as [`crate::firehose::batches`]
    /// makes them) and says what each record must become.
    pub fn for_batches(stream: &Stream, requests: &[FirehoseRequest]) -> Self {
        let mut expected = Expected::default();
        let mut items = stream.items.iter();
        for request in requests {
            let batch: Vec<&StreamItem> = items.by_ref().take(request.records.len()).collect();
            let latest_here: HashSet<&str> = batch
                .iter()
                .filter_map(|i| match i {
                    StreamItem::Contact {
                        contact_id,
                        latest: true,
                    } => Some(contact_id.as_str()),
                    _ => None,
                })
                .collect();
            for item in batch {
                match item {
                    StreamItem::AgentEvent { heartbeat: true } => expected.dropped += 1,
                    StreamItem::AgentEvent { heartbeat: false } | StreamItem::Contact { latest: true, .. } => {
                        expected.ok += 1
                    }
                    StreamItem::Contact {
                        contact_id,
                        latest: false,
                    } => {
                        if latest_here.contains(contact_id.as_str()) {
                            expected.dropped += 1;
                        } else {
                            expected.ok += 1;
                            expected.older_copies_in_lake += 1;
                        }
                    }
                }
            }
        }
        expected
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::firehose::{CONTACT_RECORDS, Source, batches};
    use crate::generate::{Generator, TrafficOptions};
    use firehose_transform::firehose::RecordResult;
    use proptest::prelude::*;

    const AGENT_EVENTS: Source<'static> = Source {
        delivery_stream: "connect-lake-agent-events",
        kinesis_stream: Some("connect-lake-agent-events"),
    };

    /// As the template configures it: each stream carries its own table, a record of the other
    /// kind fails.
    fn transform_config() -> firehose_transform::Config {
        let expected = "connect-lake-ctr=ctr,connect-lake-agent-events=agent_events";
        firehose_transform::Config::from_env(&[("PII_TOKEN_KEY", crate::DEMO_PII_KEY), ("EXPECTED_TABLES", expected)])
            .unwrap_or_else(|e| panic!("demo transform config: {e}"))
    }

    /// Runs the real transform, in process, over every request and counts its results.
    fn play(requests: &[FirehoseRequest], cfg: &firehose_transform::Config) -> (usize, usize, usize) {
        let (mut ok, mut dropped, mut failed) = (0, 0, 0);
        for request in requests {
            let response = firehose_transform::transform(request.clone(), cfg).0.unwrap();
            for r in response.records {
                match r.result {
                    RecordResult::Ok => ok += 1,
                    RecordResult::Dropped => dropped += 1,
                    RecordResult::ProcessingFailed => failed += 1,
                }
            }
        }
        (ok, dropped, failed)
    }

    #[test]
    fn an_older_copy_split_from_its_latest_copy_is_expected_ok_and_in_the_lake() {
        let traffic = Generator::new(7).traffic(&TrafficOptions::new(60, 7));
        let stream = Stream::contact_records(&traffic);
        let pair = stream
            .items
            .iter()
            .position(|i| matches!(i, StreamItem::Contact { latest: false, .. }))
            .expect("the generator streams some contacts twice");
        let StreamItem::Contact { contact_id, .. } = &stream.items[pair] else {
            unreachable!()
        };
        let partner = stream
            .items
            .iter()
            .position(|i| matches!(i, StreamItem::Contact { contact_id: id, latest: true } if id == contact_id))
            .expect("every older copy has a latest copy");
        // Cut the stream between the two copies, whichever arrives first.
        let cut = pair.max(partner);
        let mut requests = batches(CONTACT_RECORDS, &stream.records[..cut], usize::MAX, 0);
        requests.extend(batches(CONTACT_RECORDS, &stream.records[cut..], usize::MAX, 0));
        let expected = Expected::for_batches(&stream, &requests);
        assert_eq!(expected.older_copies_in_lake, 1);
        let (ok, dropped, failed) = play(&requests, &transform_config());
        assert_eq!((ok, dropped, failed), (expected.ok, expected.dropped, 0));

        let whole = batches(CONTACT_RECORDS, &stream.records, usize::MAX, 0);
        let expected = Expected::for_batches(&stream, &whole);
        assert_eq!(expected.older_copies_in_lake, 0, "one request sees every pair");
        assert_eq!(expected.dropped, traffic.ctrs.len() - traffic.unique_contacts());
    }

    #[test]
    fn agent_events_on_the_contact_record_stream_fail_as_the_wrong_kind() {
        let traffic = Generator::new(3).traffic(&TrafficOptions::new(40, 3));
        let events = Stream::agent_events(&traffic);
        let requests = batches(CONTACT_RECORDS, &events.records, usize::MAX, 0);
        let (ok, _, failed) = play(&requests, &transform_config());
        assert_eq!(ok, 0, "no agent event becomes a ctr row");
        assert_eq!(
            failed,
            events.records.len(),
            "heartbeats included: the kind is checked first"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

        /// Over many sizes, seeds and batch budgets (small budgets split many pairs), the
        /// expectation equals what the real transform returns.
        #[test]
        fn expected_results_equal_the_transforms_for_any_batching(
            contacts in 1usize..400,
            seed in any::<u64>(),
            batch_bytes in 4_000usize..200_000,
        ) {
            let traffic = Generator::new(seed).traffic(&TrafficOptions::new(contacts, seed));
            let cfg = transform_config();
            let contacts = Stream::contact_records(&traffic);
            let requests = batches(CONTACT_RECORDS, &contacts.records, batch_bytes, 1_772_928_000_000);
            let expected = Expected::for_batches(&contacts, &requests);
            let (ok, dropped, failed) = play(&requests, &cfg);
            prop_assert_eq!(failed, 0);
            prop_assert_eq!(ok, expected.ok);
            prop_assert_eq!(dropped, expected.dropped);
            prop_assert_eq!(ok + dropped, contacts.records.len());
            // Every older copy is either dropped with its pair or counted as reaching the lake.
            let older = traffic.ctrs.len() - traffic.unique_contacts();
            prop_assert!(expected.older_copies_in_lake <= older);
            prop_assert_eq!(expected.dropped, older - expected.older_copies_in_lake);

            // Agent events on their own stream: every one Ok but the heartbeats, none failed.
            let events = Stream::agent_events(&traffic);
            let requests = batches(AGENT_EVENTS, &events.records, batch_bytes, 1_772_928_000_000);
            let expected = Expected::for_batches(&events, &requests);
            let (ok, dropped, failed) = play(&requests, &cfg);
            prop_assert_eq!((ok, dropped, failed), (expected.ok, expected.dropped, 0));
            prop_assert_eq!(dropped, events.heartbeats());
            prop_assert_eq!(ok + dropped, traffic.agent_events.len());
        }
    }
}
