// @generated-style diesel schema, kept by hand in step with migrations/sqlite.
// Ids are declared BigInt: SQLite's INTEGER PRIMARY KEY holds 64-bit values, and PostgreSQL
// uses BIGINT for them too.

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        password_hash -> Text,
        role -> Text,
        disabled -> Bool,
        created_at -> BigInt,
    }
}

diesel::table! {
    user_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        kind -> Text,
        name -> Text,
        token_hash -> Text,
        created_at -> BigInt,
        expires_at -> Nullable<BigInt>,
        last_used_at -> Nullable<BigInt>,
        revoked -> Bool,
    }
}

diesel::table! {
    enrollment_tokens (id) {
        id -> BigInt,
        token_hash -> Text,
        created_by -> BigInt,
        created_at -> BigInt,
        expires_at -> BigInt,
        max_uses -> Nullable<BigInt>,
        uses -> BigInt,
        note -> Nullable<Text>,
        revoked -> Bool,
        allow_reenroll -> Bool,
    }
}

diesel::table! {
    devices (id) {
        id -> BigInt,
        name -> Text,
        hostname -> Text,
        machine_id -> Nullable<Text>,
        serial_number -> Nullable<Text>,
        asset_tag -> Nullable<Text>,
        notes -> Nullable<Text>,
        assignee -> Nullable<Text>,
        lifecycle_state -> Text,
        os_name -> Text,
        inventory_json -> Text,
        enrolled_at -> BigInt,
        last_seen -> Nullable<BigInt>,
        latest_seq -> Nullable<BigInt>,
        latest_collected_at -> Nullable<BigInt>,
        cpu_pct -> Nullable<Double>,
        mem_pct -> Nullable<Double>,
        disk_max_pct -> Nullable<Double>,
        temp_max_c -> Nullable<Double>,
        battery_health_pct -> Nullable<Double>,
        latest_json -> Nullable<Text>,
        cpu_recent -> Text,
        conflicts -> BigInt,
        latest_findings -> Nullable<Text>,
        battery_charge_pct -> Nullable<Double>,
        net_rx_bytes -> Nullable<BigInt>,
        net_tx_bytes -> Nullable<BigInt>,
        sample_level -> Nullable<BigInt>,
    }
}

diesel::table! {
    device_tokens (id) {
        id -> BigInt,
        device_id -> BigInt,
        token_hash -> Text,
        created_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    samples (device_id, seq) {
        device_id -> BigInt,
        seq -> BigInt,
        collected_at -> BigInt,
        cpu_pct -> Double,
        mem_pct -> Double,
        disk_max_pct -> Nullable<Double>,
        temp_max_c -> Nullable<Double>,
        battery_health_pct -> Nullable<Double>,
        battery_charge_pct -> Nullable<Double>,
        net_rx_bytes -> Nullable<BigInt>,
        net_tx_bytes -> Nullable<BigInt>,
        detail -> Binary,
        hash -> Binary,
    }
}

diesel::table! {
    sample_strings (id) {
        id -> BigInt,
        text -> Text,
    }
}

diesel::table! {
    store_tasks (name) {
        name -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    retention_cut (tier) {
        tier -> Text,
        configured_days -> BigInt,
        kept_days -> BigInt,
        since -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    events (id) {
        id -> BigInt,
        device_id -> BigInt,
        at -> BigInt,
        kind -> Text,
        actor -> Text,
        message -> Text,
        data -> Nullable<Text>,
    }
}

diesel::table! {
    device_alert_state (device_id) {
        device_id -> BigInt,
        state -> Text,
        evaluated_at -> BigInt,
    }
}

diesel::table! {
    alerts (id) {
        id -> BigInt,
        device_id -> BigInt,
        alert_key -> Text,
        rule -> Text,
        subject -> Text,
        severity -> Text,
        state -> Text,
        since -> BigInt,
        resolved_at -> Nullable<BigInt>,
        summary -> Text,
        value -> Nullable<Double>,
        forecast -> Nullable<Text>,
        late -> Bool,
        flapping -> Bool,
        last_evaluated -> BigInt,
        acked_by -> Nullable<Text>,
        acked_at -> Nullable<BigInt>,
        silenced_until -> Nullable<BigInt>,
        notified -> Bool,
    }
}

diesel::joinable!(user_tokens -> users (user_id));
diesel::joinable!(enrollment_tokens -> users (created_by));
diesel::joinable!(device_tokens -> devices (device_id));
diesel::joinable!(samples -> devices (device_id));
diesel::joinable!(events -> devices (device_id));
diesel::joinable!(alerts -> devices (device_id));
diesel::joinable!(device_alert_state -> devices (device_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    user_tokens,
    enrollment_tokens,
    devices,
    device_tokens,
    samples,
    sample_strings,
    store_tasks,
    retention_cut,
    events,
    alerts,
    device_alert_state,
);
