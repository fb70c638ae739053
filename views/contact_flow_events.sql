-- contact_flow_events: Amazon Connect's managed-lake flow events, as a view over connect_flow_logs
-- (Connect's native flow logs, one row per block that ran). One row per flow execution: the
-- consecutive blocks a contact ran in one flow or module, from its first to its last logged block.
-- Blocks are grouped within their arrival day (year, month, day), so a filter on those columns
-- prunes the connect_flow_logs scan; an execution that spans midnight UTC in arrival time appears
-- once per day. hour is the arrival hour of the execution's first block.
-- The next flow or queue is the last one the execution named with a block that did not fail
-- (a ContactFlowId or QueueId parameter, as the TransferToFlow and set-queue blocks log them).
-- event_id is ours: contact id, flow or module id and the first block's timestamp.
-- channel, initiation_method and sub_type come from the contact's contact_record (null until
-- its contact record arrives).
SELECT
  regexp_extract(e.flow_arn, ':instance/([^/]+)', 1) AS instance_id,
  concat(e.contactid, '/', regexp_extract(e.flow_arn, '[^/]+$'), '/', e.first_logged) AS event_id,
  regexp_extract(e.flow_arn, '^arn:[^:]*:connect:[^:]*:([^:]*):', 1) AS aws_account_id,
  regexp_extract(e.flow_arn, '^(arn:[^/]*/[^/]+)/', 1) AS instance_arn,
  e.contactid AS contact_id,
  CASE WHEN e.flow_arn LIKE '%/flow-module/%' THEN NULL ELSE regexp_extract(e.flow_arn, '[^/]+$') END
    AS flow_resource_id,
  CASE WHEN e.flow_arn LIKE '%/flow-module/%' THEN regexp_extract(e.flow_arn, '[^/]+$') END AS module_resource_id,
  CASE WHEN e.flow_arn LIKE '%/flow-module/%' THEN 'module' ELSE 'flow' END AS resource_type,
  c.channel,
  e.start_timestamp,
  e.end_timestamp,
  CASE WHEN e.next_kind = 'flow' THEN regexp_extract(e.next_arn, '[^/]+$') END AS next_flow_resource_id,
  CASE WHEN e.next_kind = 'queue' THEN regexp_extract(e.next_arn, '[^/]+$') END AS next_queue_resource_id,
  e.next_kind AS next_resource_type,
  element_at(c.segment_attribute, 'connect:Subtype') AS sub_type,
  c.initiation_method,
  e.year,
  e.month,
  e.day,
  e.hour
FROM (
  SELECT
    b.contactid,
    b.contactflowid AS flow_arn,
    min(b.logged_at) AS start_timestamp,
    max(b.logged_at) AS end_timestamp,
    min(b."timestamp") AS first_logged,
    max_by(b.target_kind, CASE WHEN b.target_kind IS NOT NULL THEN b.logged_at END) AS next_kind,
    max_by(b.target_arn, CASE WHEN b.target_kind IS NOT NULL THEN b.logged_at END) AS next_arn,
    b.year,
    b.month,
    b.day,
    min(b.hour) AS hour
  FROM (
    SELECT
      l.contactid,
      l.contactflowid,
      l."timestamp",
      CAST(from_iso8601_timestamp(l."timestamp") AS TIMESTAMP(3)) AS logged_at,
      CASE
        WHEN coalesce(l.results, '') = 'Error' THEN NULL
        WHEN element_at(l.parameters, 'ContactFlowId') IS NOT NULL THEN 'flow'
        WHEN element_at(l.parameters, 'QueueId') IS NOT NULL THEN 'queue'
      END AS target_kind,
      CASE
        WHEN coalesce(l.results, '') = 'Error' THEN NULL
        ELSE coalesce(element_at(l.parameters, 'ContactFlowId'), element_at(l.parameters, 'QueueId'))
      END AS target_arn,
      row_number() OVER (
        PARTITION BY l.contactid, l.year, l.month, l.day
        ORDER BY l."timestamp", l.identifier
      ) - row_number() OVER (
        PARTITION BY l.contactid, l.contactflowid, l.year, l.month, l.day
        ORDER BY l."timestamp", l.identifier
      ) AS run,
      l.year,
      l.month,
      l.day,
      l.hour
    FROM connect_flow_logs l
  ) b
  GROUP BY b.contactid, b.contactflowid, b.run, b.year, b.month, b.day
) e
LEFT JOIN contact_record c ON c.contact_id = e.contactid
