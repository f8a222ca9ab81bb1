//! The compact binary form of a raw sample's detail (store v2).
//!
//! A stored sample is its typed columns (see `samples` in `migrations/sqlite`) plus this blob,
//! which holds everything of the [`Sample`] except `seq` and the millisecond part of
//! `collected_at` (both columns), so that the full sample is reconstructed from the row alone.
//!
//! Format (version byte 1), all integers LEB128 varints, signed ones zigzag-encoded:
//! - numbers (`f64`) that are an exact multiple of 0.01 (everything the agent rounds) as the
//!   zigzag integer of hundredths shifted left by one; any other value as the marker `1`
//!   followed by its 8 IEEE bytes. Equality is checked on the bits, so the form is lossless for
//!   every value, `-0.0` and NaN included.
//! - byte counts divisible by 1024 as KiB shifted left by one, others as bytes shifted, `| 1`.
//! - strings (mount points, file systems, labels, interface and process names, MAC addresses,
//!   the agent version) as ids into the `sample_strings` dictionary, which the writer fills.
//! - optional groups and fields behind a flags varint. Groups added later (bit 7: compliance
//!   facts) come after the older ones, so a blob written before them still reads back.
//! - facts (yes / no / unknown) as 1 / 2 / 0, two bits each.
//!
//! `encode` and `decode` are exact inverses (property test below); nothing here is lossy.

use chrono::{DateTime, TimeZone, Utc};
use rt_core::sample::{
    AgentSelfReport, BatteryState, BatteryStats, ComplianceFacts, CpuStats, DiskStats, Fact,
    InterfaceStats, MemoryStats, NetworkStats, ProcessInfo, ProcessStats, Sample, SmartProtocol,
    SmartStats, ThermalSensor, VolumeEncryption,
};

const VERSION: u8 = 1;

/// A stored blob that cannot be read back.
#[derive(Debug, thiserror::Error)]
#[error("sample detail blob is not readable: {0}")]
pub struct DecodeError(pub &'static str);

/// Maps strings to dictionary ids while encoding.
pub trait Intern {
    fn id(&mut self, s: &str) -> i64;
}

/// Maps dictionary ids back to strings while decoding.
pub trait Resolve {
    fn text(&mut self, id: i64) -> Result<String, DecodeError>;
}

/// Collects the dictionary ids a blob refers to (decode with it, then load just those).
#[derive(Debug, Default)]
pub struct CollectIds(pub Vec<i64>);

impl Resolve for CollectIds {
    fn text(&mut self, id: i64) -> Result<String, DecodeError> {
        self.0.push(id);
        Ok(String::new())
    }
}

impl Resolve for std::collections::HashMap<i64, String> {
    fn text(&mut self, id: i64) -> Result<String, DecodeError> {
        self.get(&id)
            .cloned()
            .ok_or(DecodeError("unknown string id"))
    }
}

struct W<'a, I: Intern> {
    out: Vec<u8>,
    dict: &'a mut I,
}

impl<I: Intern> W<'_, I> {
    fn u(&mut self, mut v: u64) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.out.push(b);
                return;
            }
            self.out.push(b | 0x80);
        }
    }
    fn i(&mut self, v: i64) {
        self.u(((v << 1) ^ (v >> 63)) as u64);
    }
    fn f(&mut self, v: f64) {
        let k = (v * 100.0).round();
        // Compare what decode will compute (an integer divided by 100) with the input's bits.
        if k.abs() < (1u64 << 52) as f64 && ((k as i64) as f64 / 100.0).to_bits() == v.to_bits() {
            let k = k as i64;
            self.u(((k << 1) ^ (k >> 63)) as u64 * 2);
        } else {
            self.u(1);
            self.out.extend_from_slice(&v.to_le_bytes());
        }
    }
    fn bytes(&mut self, v: u64) {
        if v.is_multiple_of(1024) {
            self.u((v / 1024) << 1);
        } else if v < (1 << 63) - 1 {
            self.u((v << 1) | 1);
        } else {
            // Does not fit the shifted form: the escape u64::MAX (which the forms above never
            // produce) and the 8 bytes.
            self.u(u64::MAX);
            self.out.extend_from_slice(&v.to_le_bytes());
        }
    }
    fn s(&mut self, s: &str) {
        let id = self.dict.id(s);
        self.u(id as u64);
    }
    fn time(&mut self, t: DateTime<Utc>) {
        self.i(t.timestamp());
        self.u(u64::from(t.timestamp_subsec_nanos()));
    }
}

/// Encode the detail of `s` (everything but `seq`; `collected_at` in full, since the column
/// holds only milliseconds and the blob must reconstruct the sample without it).
pub fn encode(s: &Sample, dict: &mut impl Intern) -> Vec<u8> {
    let mut w = W {
        out: Vec::with_capacity(256),
        dict,
    };
    w.out.push(VERSION);
    let flags = u64::from(s.boot_time.is_some())
        | u64::from(s.network.is_some()) << 1
        | u64::from(s.battery.is_some()) << 2
        | u64::from(s.processes.is_some()) << 3
        | u64::from(s.agent.is_some()) << 4
        | u64::from(s.cpu.load_avg.is_some()) << 5
        | u64::from(s.cpu.frequency_mhz.is_some()) << 6
        | u64::from(s.compliance.is_some()) << 7;
    w.u(flags);
    w.time(s.collected_at);
    w.u(s.uptime_s);
    if let Some(b) = s.boot_time {
        // Relative to the collection time: small and mostly constant.
        w.i(s.collected_at.timestamp() - b.timestamp());
        w.u(u64::from(b.timestamp_subsec_nanos()));
    }
    w.f(s.cpu.usage_pct);
    w.u(u64::from(s.cpu.cores));
    w.u(s.cpu.per_core_pct.len() as u64);
    for v in &s.cpu.per_core_pct {
        w.f(*v);
    }
    if let Some(l) = s.cpu.load_avg {
        for v in l {
            w.f(v);
        }
    }
    if let Some(f) = s.cpu.frequency_mhz {
        w.u(f);
    }
    let m = &s.memory;
    for v in [
        m.total_bytes,
        m.used_bytes,
        m.available_bytes,
        m.swap_total_bytes,
        m.swap_used_bytes,
    ] {
        w.bytes(v);
    }
    w.u(s.disks.len() as u64);
    for d in &s.disks {
        w.s(&d.mount_point);
        w.s(&d.file_system);
        w.s(&d.kind);
        w.bytes(d.total_bytes);
        w.bytes(d.available_bytes);
        let sm = d.smart.as_ref();
        let f = u64::from(d.removable)
            | u64::from(sm.is_some()) << 1
            | u64::from(sm.is_some_and(|x| x.passed)) << 2
            | u64::from(sm.is_some_and(|x| x.temperature_c.is_some())) << 3
            | u64::from(sm.is_some_and(|x| x.power_on_hours.is_some())) << 4
            | u64::from(sm.is_some_and(|x| x.reallocated_sectors.is_some())) << 5
            | u64::from(sm.is_some_and(|x| x.media_errors.is_some())) << 6
            | u64::from(sm.is_some_and(|x| x.percentage_used.is_some())) << 7;
        w.u(f);
        if let Some(x) = sm {
            if let Some(v) = x.temperature_c {
                w.f(v);
            }
            if let Some(v) = x.power_on_hours {
                w.u(v);
            }
            if let Some(v) = x.reallocated_sectors {
                w.u(v);
            }
            if let Some(v) = x.media_errors {
                w.u(v);
            }
            if let Some(v) = x.percentage_used {
                w.f(v);
            }
            let protocol = match x.protocol {
                None => 0,
                Some(SmartProtocol::Ata) => 1,
                Some(SmartProtocol::Nvme) => 2,
                Some(SmartProtocol::Scsi) => 3,
                Some(SmartProtocol::Other) => 4,
            };
            let g = protocol
                | u64::from(x.reported_uncorrect.is_some()) << 3
                | u64::from(x.command_timeouts.is_some()) << 4
                | u64::from(x.pending_sectors.is_some()) << 5
                | u64::from(x.offline_uncorrectable.is_some()) << 6
                | u64::from(x.critical_warning.is_some()) << 7
                | u64::from(x.available_spare_pct.is_some()) << 8
                | u64::from(x.available_spare_threshold_pct.is_some()) << 9
                | u64::from(x.temperature_critical_c.is_some()) << 10;
            w.u(g);
            for v in [
                x.reported_uncorrect,
                x.command_timeouts,
                x.pending_sectors,
                x.offline_uncorrectable,
                x.critical_warning.map(u64::from),
            ]
            .into_iter()
            .flatten()
            {
                w.u(v);
            }
            for v in [
                x.available_spare_pct,
                x.available_spare_threshold_pct,
                x.temperature_critical_c,
            ]
            .into_iter()
            .flatten()
            {
                w.f(v);
            }
        }
    }
    if let Some(n) = &s.network {
        let f = u64::from(n.has_link)
            | u64::from(n.server_reachable.is_some()) << 1
            | u64::from(n.server_reachable == Some(true)) << 2;
        w.u(f);
        w.u(n.interfaces.len() as u64);
        for i in &n.interfaces {
            w.s(&i.name);
            w.u(i.rx_bytes);
            w.u(i.tx_bytes);
            w.u(u64::from(i.up) | u64::from(i.mac_address.is_some()) << 1);
            if let Some(mac) = &i.mac_address {
                w.s(mac);
            }
        }
    }
    w.u(s.thermal.len() as u64);
    for t in &s.thermal {
        w.s(&t.label);
        w.f(t.temperature_c);
        match t.critical_c {
            Some(c) => {
                w.u(1);
                w.f(c);
            }
            None => w.u(0),
        }
    }
    if let Some(b) = &s.battery {
        let state = match b.state {
            BatteryState::Charging => 0,
            BatteryState::Discharging => 1,
            BatteryState::Full => 2,
            BatteryState::NotCharging => 3,
            BatteryState::Unknown => 4,
        };
        let f = u64::from(b.present)
            | u64::from(b.charge_pct.is_some()) << 1
            | u64::from(b.health_pct.is_some()) << 2
            | u64::from(b.cycle_count.is_some()) << 3
            | state << 4;
        w.u(f);
        if let Some(v) = b.charge_pct {
            w.f(v);
        }
        if let Some(v) = b.health_pct {
            w.f(v);
        }
        if let Some(v) = b.cycle_count {
            w.u(v);
        }
    }
    if let Some(p) = &s.processes {
        w.u(p.count);
        w.u(p.top_cpu.len() as u64);
        for x in &p.top_cpu {
            w.s(&x.name);
            w.u(u64::from(x.pid));
            w.f(x.cpu_pct);
            w.bytes(x.memory_bytes);
        }
    }
    if let Some(a) = &s.agent {
        w.s(&a.version);
        w.u(a.queue_depth);
        w.u(a.dropped_since_last_upload);
        w.u(a.collection_ms);
    }
    if let Some(c) = &s.compliance {
        let facts = fact_bits(c.firewall)
            | fact_bits(c.secure_boot) << 2
            | fact_bits(c.screen_lock) << 4
            | u64::from(c.os_updated_at.is_some()) << 6;
        w.u(facts);
        if let Some(t) = c.os_updated_at {
            w.time(t);
        }
        w.u(c.volumes.len() as u64);
        for v in &c.volumes {
            w.s(&v.mount_point);
            w.u(fact_bits(v.encrypted) | u64::from(v.method.is_some()) << 2);
            if let Some(m) = &v.method {
                w.s(m);
            }
        }
    }
    w.out
}

fn fact_bits(f: Fact) -> u64 {
    match f {
        Fact::Unknown => 0,
        Fact::Yes => 1,
        Fact::No => 2,
    }
}

fn fact_of(bits: u64) -> Result<Fact, DecodeError> {
    match bits & 3 {
        0 => Ok(Fact::Unknown),
        1 => Ok(Fact::Yes),
        2 => Ok(Fact::No),
        _ => Err(DecodeError("unknown fact value")),
    }
}

struct R<'a, D: Resolve> {
    b: &'a [u8],
    dict: &'a mut D,
}

impl<D: Resolve> R<'_, D> {
    fn byte(&mut self) -> Result<u8, DecodeError> {
        let (&x, rest) = self.b.split_first().ok_or(DecodeError("truncated"))?;
        self.b = rest;
        Ok(x)
    }
    fn u(&mut self) -> Result<u64, DecodeError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(DecodeError("varint too long"))
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        u32::try_from(self.u()?).map_err(|_| DecodeError("value out of range"))
    }
    fn i(&mut self) -> Result<i64, DecodeError> {
        let u = self.u()?;
        Ok((u >> 1) as i64 ^ -((u & 1) as i64))
    }
    fn raw8(&mut self) -> Result<[u8; 8], DecodeError> {
        let (x, rest) = self
            .b
            .split_first_chunk::<8>()
            .ok_or(DecodeError("truncated"))?;
        self.b = rest;
        Ok(*x)
    }
    fn f(&mut self) -> Result<f64, DecodeError> {
        let u = self.u()?;
        if u == 1 {
            return Ok(f64::from_le_bytes(self.raw8()?));
        }
        let z = u >> 1;
        let k = (z >> 1) as i64 ^ -((z & 1) as i64);
        Ok(k as f64 / 100.0)
    }
    fn bytes(&mut self) -> Result<u64, DecodeError> {
        let u = self.u()?;
        if u == u64::MAX {
            return Ok(u64::from_le_bytes(self.raw8()?));
        }
        if u & 1 == 0 {
            (u >> 1)
                .checked_mul(1024)
                .ok_or(DecodeError("value out of range"))
        } else {
            Ok(u >> 1)
        }
    }
    fn s(&mut self) -> Result<String, DecodeError> {
        let id = i64::try_from(self.u()?).map_err(|_| DecodeError("bad string id"))?;
        self.dict.text(id)
    }
    fn len(&mut self) -> Result<usize, DecodeError> {
        let n = self.u()?;
        // Every element takes at least one byte: a longer count is corrupt, not a huge alloc.
        if n > self.b.len() as u64 {
            return Err(DecodeError("length beyond the blob"));
        }
        Ok(n as usize)
    }
    fn time(&mut self) -> Result<DateTime<Utc>, DecodeError> {
        let secs = self.i()?;
        let nanos = self.u32()?;
        Utc.timestamp_opt(secs, nanos)
            .single()
            .ok_or(DecodeError("time out of range"))
    }
}

/// Rebuild the sample stored as (`seq`, `blob`).
pub fn decode(seq: u64, blob: &[u8], dict: &mut impl Resolve) -> Result<Sample, DecodeError> {
    let mut r = R { b: blob, dict };
    if r.byte()? != VERSION {
        return Err(DecodeError("unknown version"));
    }
    let flags = r.u()?;
    let bit = |n: u32| flags & (1 << n) != 0;
    let collected_at = r.time()?;
    let uptime_s = r.u()?;
    let boot_time = if bit(0) {
        let secs = collected_at
            .timestamp()
            .checked_sub(r.i()?)
            .ok_or(DecodeError("time out of range"))?;
        let nanos = r.u32()?;
        Some(
            Utc.timestamp_opt(secs, nanos)
                .single()
                .ok_or(DecodeError("time out of range"))?,
        )
    } else {
        None
    };
    let usage_pct = r.f()?;
    let cores = r.u32()?;
    let n = r.len()?;
    let mut per_core_pct = Vec::with_capacity(n);
    for _ in 0..n {
        per_core_pct.push(r.f()?);
    }
    let load_avg = if bit(5) {
        Some([r.f()?, r.f()?, r.f()?])
    } else {
        None
    };
    let frequency_mhz = if bit(6) { Some(r.u()?) } else { None };
    let memory = MemoryStats {
        total_bytes: r.bytes()?,
        used_bytes: r.bytes()?,
        available_bytes: r.bytes()?,
        swap_total_bytes: r.bytes()?,
        swap_used_bytes: r.bytes()?,
    };
    let n = r.len()?;
    let mut disks = Vec::with_capacity(n);
    for _ in 0..n {
        let mount_point = r.s()?;
        let file_system = r.s()?;
        let kind = r.s()?;
        let total_bytes = r.bytes()?;
        let available_bytes = r.bytes()?;
        let f = r.u()?;
        let smart = if f & 2 != 0 {
            let temperature_c = if f & 8 != 0 { Some(r.f()?) } else { None };
            let power_on_hours = if f & 16 != 0 { Some(r.u()?) } else { None };
            let reallocated_sectors = if f & 32 != 0 { Some(r.u()?) } else { None };
            let media_errors = if f & 64 != 0 { Some(r.u()?) } else { None };
            let percentage_used = if f & 128 != 0 { Some(r.f()?) } else { None };
            let g = r.u()?;
            let protocol = match g & 7 {
                0 => None,
                1 => Some(SmartProtocol::Ata),
                2 => Some(SmartProtocol::Nvme),
                3 => Some(SmartProtocol::Scsi),
                4 => Some(SmartProtocol::Other),
                _ => return Err(DecodeError("unknown SMART protocol")),
            };
            let reported_uncorrect = if g & 1 << 3 != 0 { Some(r.u()?) } else { None };
            let command_timeouts = if g & 1 << 4 != 0 { Some(r.u()?) } else { None };
            let pending_sectors = if g & 1 << 5 != 0 { Some(r.u()?) } else { None };
            let offline_uncorrectable = if g & 1 << 6 != 0 { Some(r.u()?) } else { None };
            let critical_warning = if g & 1 << 7 != 0 {
                Some(u8::try_from(r.u()?).map_err(|_| DecodeError("value out of range"))?)
            } else {
                None
            };
            let available_spare_pct = if g & 1 << 8 != 0 { Some(r.f()?) } else { None };
            let available_spare_threshold_pct = if g & 1 << 9 != 0 { Some(r.f()?) } else { None };
            let temperature_critical_c = if g & 1 << 10 != 0 { Some(r.f()?) } else { None };
            // Struct literals (no `..Default`): a field added to the sample types is a compile
            // error here until the codec stores it.
            Some(SmartStats {
                passed: f & 4 != 0,
                temperature_c,
                power_on_hours,
                reallocated_sectors,
                media_errors,
                percentage_used,
                protocol,
                reported_uncorrect,
                command_timeouts,
                pending_sectors,
                offline_uncorrectable,
                critical_warning,
                available_spare_pct,
                available_spare_threshold_pct,
                temperature_critical_c,
            })
        } else {
            None
        };
        disks.push(DiskStats {
            mount_point,
            file_system,
            kind,
            total_bytes,
            available_bytes,
            removable: f & 1 != 0,
            smart,
        });
    }
    let network = if bit(1) {
        let f = r.u()?;
        let n = r.len()?;
        let mut interfaces = Vec::with_capacity(n);
        for _ in 0..n {
            let name = r.s()?;
            let rx_bytes = r.u()?;
            let tx_bytes = r.u()?;
            let g = r.u()?;
            let mac_address = if g & 2 != 0 { Some(r.s()?) } else { None };
            interfaces.push(InterfaceStats {
                name,
                rx_bytes,
                tx_bytes,
                up: g & 1 != 0,
                mac_address,
            });
        }
        Some(NetworkStats {
            interfaces,
            server_reachable: (f & 2 != 0).then_some(f & 4 != 0),
            has_link: f & 1 != 0,
        })
    } else {
        None
    };
    let n = r.len()?;
    let mut thermal = Vec::with_capacity(n);
    for _ in 0..n {
        let label = r.s()?;
        let temperature_c = r.f()?;
        let critical_c = if r.u()? == 1 { Some(r.f()?) } else { None };
        thermal.push(ThermalSensor {
            label,
            temperature_c,
            critical_c,
        });
    }
    let battery = if bit(2) {
        let f = r.u()?;
        let state = match f >> 4 {
            0 => BatteryState::Charging,
            1 => BatteryState::Discharging,
            2 => BatteryState::Full,
            3 => BatteryState::NotCharging,
            4 => BatteryState::Unknown,
            _ => return Err(DecodeError("unknown battery state")),
        };
        Some(BatteryStats {
            present: f & 1 != 0,
            charge_pct: if f & 2 != 0 { Some(r.f()?) } else { None },
            health_pct: if f & 4 != 0 { Some(r.f()?) } else { None },
            cycle_count: if f & 8 != 0 { Some(r.u()?) } else { None },
            state,
        })
    } else {
        None
    };
    let processes = if bit(3) {
        let count = r.u()?;
        let n = r.len()?;
        let mut top_cpu = Vec::with_capacity(n);
        for _ in 0..n {
            top_cpu.push(ProcessInfo {
                name: r.s()?,
                pid: r.u32()?,
                cpu_pct: r.f()?,
                memory_bytes: r.bytes()?,
            });
        }
        Some(ProcessStats { count, top_cpu })
    } else {
        None
    };
    let agent = if bit(4) {
        Some(AgentSelfReport {
            version: r.s()?,
            queue_depth: r.u()?,
            dropped_since_last_upload: r.u()?,
            collection_ms: r.u()?,
        })
    } else {
        None
    };
    let compliance = if bit(7) {
        let facts = r.u()?;
        let os_updated_at = if facts & (1 << 6) != 0 {
            Some(r.time()?)
        } else {
            None
        };
        let n = r.len()?;
        let mut volumes = Vec::with_capacity(n);
        for _ in 0..n {
            let mount_point = r.s()?;
            let f = r.u()?;
            volumes.push(VolumeEncryption {
                mount_point,
                encrypted: fact_of(f)?,
                method: if f & 4 != 0 { Some(r.s()?) } else { None },
            });
        }
        Some(ComplianceFacts {
            volumes,
            firewall: fact_of(facts)?,
            secure_boot: fact_of(facts >> 2)?,
            screen_lock: fact_of(facts >> 4)?,
            os_updated_at,
        })
    } else {
        None
    };
    if !r.b.is_empty() {
        return Err(DecodeError("trailing bytes"));
    }
    Ok(Sample {
        seq,
        collected_at,
        uptime_s,
        boot_time,
        cpu: CpuStats {
            usage_pct,
            per_core_pct,
            load_avg,
            cores,
            frequency_mhz,
        },
        memory,
        disks,
        network,
        thermal,
        battery,
        processes,
        agent,
        compliance,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    #[derive(Default)]
    struct Dict {
        ids: HashMap<String, i64>,
        texts: HashMap<i64, String>,
    }
    impl Intern for Dict {
        fn id(&mut self, s: &str) -> i64 {
            if let Some(id) = self.ids.get(s) {
                return *id;
            }
            let id = self.ids.len() as i64 + 1;
            self.ids.insert(s.to_string(), id);
            self.texts.insert(id, s.to_string());
            id
        }
    }

    fn num() -> impl Strategy<Value = f64> {
        prop_oneof![
            (-100_000i64..100_000).prop_map(|k| k as f64 / 10.0),
            (-100_000i64..100_000).prop_map(|k| k as f64 / 100.0),
            any::<f64>().prop_filter("NaN compares unequal", |v| !v.is_nan()),
            Just(-0.0),
        ]
    }
    fn big() -> impl Strategy<Value = u64> {
        prop_oneof![
            any::<u64>(),
            (0u64..1 << 40).prop_map(|k| k * 1024),
            0u64..1000
        ]
    }
    fn time() -> impl Strategy<Value = DateTime<Utc>> {
        (0i64..4_000_000_000, 0u32..1_000_000_000)
            .prop_map(|(s, n)| Utc.timestamp_opt(s, n).single().unwrap())
    }
    fn text() -> impl Strategy<Value = String> {
        "[a-z/ ]{0,8}"
    }

    prop_compose! {
        fn disk()(mount_point in text(), file_system in text(), kind in text(), total_bytes in big(),
                   available_bytes in big(), removable in any::<bool>(),
                   smart in proptest::option::of((any::<bool>(), proptest::option::of(num()),
                        proptest::option::of(big()), proptest::option::of(big()),
                        proptest::option::of(big()), proptest::option::of(num()))),
                   ext in (proptest::option::of(0usize..4), proptest::option::of(big()),
                        proptest::option::of(big()), proptest::option::of(big()),
                        proptest::option::of(big()), proptest::option::of(any::<u8>()),
                        proptest::option::of(num()), proptest::option::of(num()),
                        proptest::option::of(num())))
                   -> DiskStats {
            DiskStats { mount_point, file_system, kind, total_bytes, available_bytes, removable,
                smart: smart.map(|(passed, temperature_c, power_on_hours, reallocated_sectors, media_errors, percentage_used)|
                    SmartStats { passed, temperature_c, power_on_hours, reallocated_sectors, media_errors, percentage_used,
                        protocol: ext.0.map(|i| [SmartProtocol::Ata, SmartProtocol::Nvme, SmartProtocol::Scsi, SmartProtocol::Other][i]),
                        reported_uncorrect: ext.1, command_timeouts: ext.2, pending_sectors: ext.3,
                        offline_uncorrectable: ext.4, critical_warning: ext.5, available_spare_pct: ext.6,
                        available_spare_threshold_pct: ext.7, temperature_critical_c: ext.8 }) }
        }
    }
    prop_compose! {
        fn iface()(name in text(), rx_bytes in big(), tx_bytes in big(), up in any::<bool>(),
                   mac_address in proptest::option::of(text())) -> InterfaceStats {
            InterfaceStats { name, rx_bytes, tx_bytes, up, mac_address }
        }
    }
    prop_compose! {
        fn sample()(seq in any::<u64>(), collected_at in time(), uptime_s in big(),
                    boot_time in proptest::option::of(time()), usage in num(),
                    per_core in proptest::collection::vec(num(), 0..20), cores in any::<u32>(),
                    load in proptest::option::of((num(), num(), num())), freq in proptest::option::of(big()),
                    mem in (big(), big(), big(), big(), big()),
                    disks in proptest::collection::vec(disk(), 0..4),
                    network in proptest::option::of((proptest::collection::vec(iface(), 0..4),
                        proptest::option::of(any::<bool>()), any::<bool>())),
                    thermal in proptest::collection::vec((text(), num(), proptest::option::of(num())), 0..4),
                    battery in proptest::option::of((any::<bool>(), proptest::option::of(num()),
                        proptest::option::of(num()), proptest::option::of(big()), 0u8..5)),
                    processes in proptest::option::of((big(), proptest::collection::vec(
                        (text(), any::<u32>(), num(), big()), 0..6))),
                    agent in proptest::option::of((text(), big(), big(), big())),
                    compliance in proptest::option::of((proptest::collection::vec((text(), 0u8..3, proptest::option::of(text())), 0..4),
                        0u8..3, 0u8..3, 0u8..3, proptest::option::of(time())))) -> Sample {
            let fact = |i: u8| [Fact::Unknown, Fact::Yes, Fact::No][i as usize];
            Sample {
                seq, collected_at, uptime_s, boot_time,
                cpu: CpuStats { usage_pct: usage, per_core_pct: per_core, load_avg: load.map(|(a, b, c)| [a, b, c]), cores, frequency_mhz: freq },
                memory: MemoryStats { total_bytes: mem.0, used_bytes: mem.1, available_bytes: mem.2, swap_total_bytes: mem.3, swap_used_bytes: mem.4 },
                disks,
                network: network.map(|(interfaces, server_reachable, has_link)| NetworkStats { interfaces, server_reachable, has_link }),
                thermal: thermal.into_iter().map(|(label, temperature_c, critical_c)| ThermalSensor { label, temperature_c, critical_c }).collect(),
                battery: battery.map(|(present, charge_pct, health_pct, cycle_count, st)| BatteryStats { present, charge_pct, health_pct, cycle_count,
                    state: [BatteryState::Charging, BatteryState::Discharging, BatteryState::Full, BatteryState::NotCharging, BatteryState::Unknown][st as usize] }),
                processes: processes.map(|(count, top)| ProcessStats { count, top_cpu: top.into_iter().map(|(name, pid, cpu_pct, memory_bytes)| ProcessInfo { name, pid, cpu_pct, memory_bytes }).collect() }),
                agent: agent.map(|(version, queue_depth, dropped_since_last_upload, collection_ms)| AgentSelfReport { version, queue_depth, dropped_since_last_upload, collection_ms }),
                compliance: compliance.map(|(volumes, fw, sb, sl, os_updated_at)| ComplianceFacts {
                    volumes: volumes.into_iter().map(|(mount_point, e, method)| VolumeEncryption { mount_point, encrypted: fact(e), method }).collect(),
                    firewall: fact(fw), secure_boot: fact(sb), screen_lock: fact(sl), os_updated_at }),
            }
        }
    }

    /// The sample strategy is deep; debug builds need more than a test thread's stack for it.
    fn with_big_stack(f: impl FnOnce() + Send + 'static) {
        std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn(f)
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn decode_inverts_encode() {
        with_big_stack(|| {
            let mut runner =
                proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(512));
            runner
                .run(&sample(), |s| {
                    let mut d = Dict::default();
                    let blob = encode(&s, &mut d);
                    let back = decode(s.seq, &blob, &mut d.texts).unwrap();
                    // Bitwise on floats (via JSON too): -0.0 must stay -0.0.
                    prop_assert_eq!(
                        serde_json::to_string(&back).unwrap(),
                        serde_json::to_string(&s).unwrap()
                    );
                    prop_assert_eq!(&back, &s);
                    // Collecting ids names exactly interned strings.
                    let mut c = CollectIds::default();
                    decode(s.seq, &blob, &mut c).unwrap();
                    for id in c.0 {
                        prop_assert!(d.texts.contains_key(&id));
                    }
                    Ok(())
                })
                .unwrap();
        });
    }

    proptest! {
        #[test]
        fn garbage_is_an_error_not_a_panic(b in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode(1, &b, &mut CollectIds::default());
        }
    }

    #[test]
    fn negative_zero_keeps_its_sign() {
        let mut w = W {
            out: Vec::new(),
            dict: &mut Dict::default(),
        };
        w.f(-0.0);
        w.f(12.3);
        let mut r = R {
            b: &w.out,
            dict: &mut CollectIds::default(),
        };
        assert_eq!(r.f().unwrap().to_bits(), (-0.0f64).to_bits());
        assert_eq!(r.f().unwrap().to_bits(), 12.3f64.to_bits());
    }
}
