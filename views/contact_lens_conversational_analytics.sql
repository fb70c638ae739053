-- contact_lens_conversational_analytics: conversation analytics per contact, as Amazon Connect's
-- managed lake names them, from our contact_sentiment rows (one per contact and transcript
-- source). Where a contact has several sources, Contact Lens wins, then Call Analytics, then
-- Transcribe, then the latest processed. Instance, account, channel and disconnect time come from
-- the latest copy of the contact (the contact_record view).
-- Sentiment scores are our -1..1 scores x 5, on Contact Lens's -5..+5 scale; they are computed by
-- the enricher's provider (Comprehend, the lexicon, or the source's own labels), not by Contact
-- Lens's model.
SELECT
  c.instance_id,
  c.aws_account_id,
  s.contact_id,
  c.channel,
  s.language AS language_locale,
  c.disconnect_timestamp,
  s.conversation_ms AS total_conversation_duration_ms,
  s.conversation_ms - s.non_talk_ms AS talk_time_total_ms,
  s.agent_talk_ms AS talk_time_agent_ms,
  s.customer_talk_ms AS talk_time_customer_ms,
  s.non_talk_ms AS non_talk_time_total_ms,
  CAST(s.interruption_count AS BIGINT) AS interruptions_total_count,
  s.interruption_ms AS interruptions_time_total_ms,
  s.agent_score * 5 AS sentiment_overall_score_agent,
  s.customer_score * 5 AS sentiment_overall_score_customer,
  s.customer_score_end * 5 AS sentiment_end_score_customer,
  s.year,
  s.month,
  s.day,
  s.hour
FROM (
  SELECT
    t.*,
    row_number() OVER (
      PARTITION BY t.contact_id, t.year, t.month, t.day, t.hour
      ORDER BY
        CASE t.source_kind
          WHEN 'contact_lens_voice' THEN 0
          WHEN 'contact_lens_chat' THEN 0
          WHEN 'call_analytics' THEN 1
          ELSE 2
        END,
        t.processed_at DESC
    ) AS source_rank
  FROM contact_sentiment t
) s
LEFT JOIN contact_record c ON c.contact_id = s.contact_id
WHERE s.source_rank = 1
