-- contact_statistic_record: per-contact statistics as Amazon Connect's managed lake defines them,
-- derived from the latest copy of each contact (the contact_record view). Flags are 0 or 1
-- (bigint), so SUM counts them; durations are milliseconds.
--   is_queued      the contact was placed in a queue (Queue.EnqueueTimestamp is set)
--   is_handled     the contact was connected to an agent
--   is_abandoned   queued, disconnected by the customer before reaching an agent; callbacks excluded
--   is_transferred_out_external / _internal   transferred to an endpoint outside Connect, or not
SELECT
  instance_id,
  aws_account_id,
  contact_id,
  channel,
  initiation_method,
  initiation_timestamp,
  disconnect_timestamp,
  queue_id,
  agent_id,
  CAST(CASE WHEN queue_enqueue_timestamp IS NOT NULL THEN 1 ELSE 0 END AS BIGINT) AS is_queued,
  CAST(CASE WHEN agent_connected_to_agent_timestamp IS NOT NULL THEN 1 ELSE 0 END AS BIGINT) AS is_handled,
  CAST(CASE
    WHEN queue_enqueue_timestamp IS NOT NULL
      AND agent_connected_to_agent_timestamp IS NULL
      AND disconnect_reason = 'CUSTOMER_DISCONNECT'
      AND initiation_method <> 'CALLBACK'
    THEN 1 ELSE 0 END AS BIGINT) AS is_abandoned,
  CAST(CASE
    WHEN queue_enqueue_timestamp IS NOT NULL AND agent_connected_to_agent_timestamp IS NOT NULL
    THEN 1 ELSE 0 END AS BIGINT) AS is_queued_and_handled,
  CAST(CASE
    WHEN agent_connected_to_agent_timestamp IS NOT NULL AND initiation_method IN ('INBOUND', 'TRANSFER', 'QUEUE_TRANSFER')
    THEN 1 ELSE 0 END AS BIGINT) AS is_handled_incoming,
  CAST(CASE
    WHEN agent_connected_to_agent_timestamp IS NOT NULL AND initiation_method = 'OUTBOUND'
    THEN 1 ELSE 0 END AS BIGINT) AS is_handled_outbound,
  CAST(CASE
    WHEN agent_connected_to_agent_timestamp IS NOT NULL AND initiation_method = 'CALLBACK'
    THEN 1 ELSE 0 END AS BIGINT) AS is_callback_handled,
  CAST(CASE
    WHEN agent_connected_to_agent_timestamp IS NOT NULL AND initiation_method = 'API'
    THEN 1 ELSE 0 END AS BIGINT) AS is_api_handled,
  CAST(CASE WHEN initiation_method = 'CALLBACK' THEN 1 ELSE 0 END AS BIGINT) AS is_callback_contact,
  CAST(CASE WHEN initiation_method = 'API' THEN 1 ELSE 0 END AS BIGINT) AS is_api_contact,
  CAST(CASE WHEN initiation_method IN ('TRANSFER', 'QUEUE_TRANSFER') THEN 1 ELSE 0 END AS BIGINT)
    AS is_transferred_in,
  CAST(CASE WHEN transfer_completed_timestamp IS NOT NULL THEN 1 ELSE 0 END AS BIGINT) AS is_transferred_out,
  CAST(CASE
    WHEN transfer_completed_timestamp IS NOT NULL AND transferred_to_endpoint_type IS NULL
    THEN 1 ELSE 0 END AS BIGINT) AS is_transferred_out_internal,
  CAST(CASE
    WHEN transfer_completed_timestamp IS NOT NULL AND transferred_to_endpoint_type IS NOT NULL
    THEN 1 ELSE 0 END AS BIGINT) AS is_transferred_out_external,
  CAST(CASE WHEN agent_number_of_holds > 0 THEN 1 ELSE 0 END AS BIGINT) AS is_put_on_hold,
  CASE WHEN queue_enqueue_timestamp IS NOT NULL THEN queue_duration_ms END AS queue_time_ms,
  CASE WHEN agent_connected_to_agent_timestamp IS NOT NULL THEN queue_duration_ms END AS queue_answer_time_ms,
  CASE
    WHEN queue_enqueue_timestamp IS NOT NULL
      AND agent_connected_to_agent_timestamp IS NULL
      AND disconnect_reason = 'CUSTOMER_DISCONNECT'
      AND initiation_method <> 'CALLBACK'
    THEN queue_duration_ms
  END AS abandon_time_ms,
  agent_interaction_duration_ms AS agent_interaction_time_ms,
  agent_customer_hold_duration_ms AS customer_hold_time_ms,
  agent_after_contact_work_duration_ms AS after_contact_work_time_ms,
  CASE
    WHEN agent_connected_to_agent_timestamp IS NOT NULL
    THEN agent_interaction_duration_ms + agent_customer_hold_duration_ms
      + coalesce(agent_after_contact_work_duration_ms, 0)
  END AS handle_time_ms,
  year,
  month,
  day,
  hour
FROM contact_record
