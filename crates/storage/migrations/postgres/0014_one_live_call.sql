-- A chat has one live call in the whole cluster: when two nodes start a call
-- in one chat at the same instant, one insert wins and the other node joins
-- that call where it lives.
--
-- Before several nodes, a chat could keep a second unfinished row only from
-- a node that never came back under its name: those end as a restart.
UPDATE call_participants SET last_left_at = (SELECT started_at FROM calls WHERE calls.id = call_participants.call_id)
WHERE last_left_at IS NULL
  AND call_id IN (
    SELECT id FROM calls c WHERE c.ended_at IS NULL
      AND EXISTS (SELECT 1 FROM calls n WHERE n.chat_id = c.chat_id AND n.ended_at IS NULL AND n.id > c.id)
  );
UPDATE calls SET ended_at = started_at, outcome = 'server_restart'
WHERE ended_at IS NULL
  AND EXISTS (SELECT 1 FROM calls n WHERE n.chat_id = calls.chat_id AND n.ended_at IS NULL AND n.id > calls.id);
CREATE UNIQUE INDEX calls_live_in_chat ON calls (chat_id) WHERE ended_at IS NULL;
