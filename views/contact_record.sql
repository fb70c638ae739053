-- contact_record: Amazon Connect's managed-lake contact record, as a view over ctr.
-- One row per contact: the copy with the greatest last_update_timestamp (Connect re-sends a
-- contact when it changes). Copies are compared within a partition, so a filter on year, month,
-- day or hour reaches the ctr scan and prunes it (see docs/connect-lake-schema.md).
-- Durations are milliseconds (our seconds x 1000). customer_endpoint_address holds our HMAC
-- token of the number, never the number.
SELECT
  instance_id,
  aws_account_id,
  contact_id,
  initial_contact_id,
  previous_contact_id,
  related_contact_id,
  next_contact_id,
  channel,
  initiation_method,
  initiation_timestamp,
  connected_to_system_timestamp,
  transfer_completed_timestamp,
  disconnect_timestamp,
  disconnect_reason,
  scheduled_timestamp,
  last_update_timestamp,
  regexp_extract(queue_arn, '[^/]+$') AS queue_id,
  queue_arn,
  queue_name,
  queue_enqueue_timestamp,
  queue_dequeue_timestamp,
  queue_duration_s * 1000 AS queue_duration_ms,
  regexp_extract(agent_arn, '[^/]+$') AS agent_id,
  agent_arn,
  agent_username,
  agent_connected_timestamp AS agent_connected_to_agent_timestamp,
  agent_interaction_duration_s * 1000 AS agent_interaction_duration_ms,
  customer_hold_duration_s * 1000 AS agent_customer_hold_duration_ms,
  longest_hold_duration_s * 1000 AS agent_longest_hold_duration_ms,
  CAST(number_of_holds AS BIGINT) AS agent_number_of_holds,
  acw_start_timestamp AS agent_after_contact_work_start_timestamp,
  acw_end_timestamp AS agent_after_contact_work_end_timestamp,
  acw_duration_s * 1000 AS agent_after_contact_work_duration_ms,
  CAST(agent_connection_attempts AS BIGINT) AS agent_connection_attempts,
  routing_profile_name AS agent_routing_profile_name,
  hierarchy_level1 AS agent_hierarchy_groups_level_1_name,
  hierarchy_level2 AS agent_hierarchy_groups_level_2_name,
  hierarchy_level3 AS agent_hierarchy_groups_level_3_name,
  hierarchy_level4 AS agent_hierarchy_groups_level_4_name,
  hierarchy_level5 AS agent_hierarchy_groups_level_5_name,
  customer_endpoint_type,
  customer_endpoint_token AS customer_endpoint_address,
  system_endpoint_type,
  system_endpoint_address,
  transferred_to_endpoint_type,
  transferred_to_endpoint_token AS transferred_to_endpoint_address,
  recording_location,
  recording_status,
  attributes,
  segment_attributes AS segment_attribute,
  agent_pause_duration_s * 1000 AS agent_pause_duration_ms,
  campaign_id,
  answering_machine_detection_status,
  year,
  month,
  day,
  hour
FROM (
  SELECT
    c.*,
    row_number() OVER (
      PARTITION BY c.contact_id, c.year, c.month, c.day, c.hour
      ORDER BY c.last_update_timestamp DESC
    ) AS copy_rank
  FROM ctr c
) copies
WHERE copy_rank = 1
