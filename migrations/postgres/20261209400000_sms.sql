-- The SMS channel (issue 21): gateways the commune already runs (an Android phone with
-- capcom6's SMS Gateway, a RapidPro/TextIt External channel, SMSSync), one conversation per
-- (gateway, phone number), and the log of inbound messages with our own dedupe key.
-- Phone numbers are residents' private contact details: never shown to operators, erased
-- with the reports' other contacts under the retention period.
CREATE TABLE sms_gateways (
    id UUID PRIMARY KEY,
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    kind TEXT NOT NULL CHECK (kind IN ('android_sms_gateway', 'rapidpro_external', 'smssync')),
    name TEXT NOT NULL,
    -- Verifies inbound requests (HMAC key, URL secret or shared secret); kept in clear
    -- because an HMAC cannot be checked against a hash. Never returned by the API.
    secret TEXT NOT NULL,
    -- The URL-safe token of the gateway's inbound URL (/sms/{kind}/{inbound_token}).
    inbound_token TEXT NOT NULL,
    send_url TEXT,
    send_username TEXT,
    send_password TEXT,
    public_number TEXT,
    per_number_per_hour INTEGER NOT NULL,
    per_gateway_per_hour INTEGER NOT NULL,
    created_by UUID REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL,
    disabled_at TIMESTAMPTZ,
    CONSTRAINT sms_gateways_inbound_token_key UNIQUE (inbound_token)
);
CREATE INDEX sms_gateways_jurisdiction_idx ON sms_gateways (jurisdiction_id, created_at);

CREATE TABLE sms_conversations (
    gateway_id UUID NOT NULL REFERENCES sms_gateways (id),
    phone TEXT NOT NULL,
    state JSONB NOT NULL, -- the conversation's step, language and draft (domain sms::Conversation)
    stopped BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (gateway_id, phone)
);
CREATE INDEX sms_conversations_updated_idx ON sms_conversations (updated_at);

CREATE TABLE sms_messages (
    id UUID PRIMARY KEY,
    gateway_id UUID NOT NULL REFERENCES sms_gateways (id),
    dedupe_key BYTEA NOT NULL,
    phone TEXT, -- NULL once erased under retention
    received_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT sms_messages_dedupe_key UNIQUE (gateway_id, dedupe_key)
);
CREATE INDEX sms_messages_phone_idx ON sms_messages (gateway_id, phone, received_at);
CREATE INDEX sms_messages_received_idx ON sms_messages (gateway_id, received_at);

-- Messages for gateways that poll for them (SMSSync's task=send), queued by the SMS worker.
CREATE TABLE sms_pending (
    id UUID PRIMARY KEY,
    gateway_id UUID NOT NULL REFERENCES sms_gateways (id),
    phone TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    taken_at TIMESTAMPTZ
);
CREATE INDEX sms_pending_gateway_idx ON sms_pending (gateway_id, taken_at, created_at);
