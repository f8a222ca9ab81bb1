//! Hardware inventory of a device and the placeholder-serial rule used by device identity.

use serde::{Deserialize, Serialize};

/// What a device is: sent at enrollment (and re-enrollment), shown in the console.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Inventory {
    pub hostname: String,
    #[serde(default)]
    pub os_name: String,
    #[serde(default)]
    pub os_version: String,
    #[serde(default)]
    pub kernel_version: String,
    #[serde(default)]
    pub arch: String,
    #[serde(default)]
    pub cpu_model: String,
    #[serde(default)]
    pub cpu_cores: u32,
    #[serde(default)]
    pub memory_total_bytes: u64,
    /// Stable OS machine identifier (`/etc/machine-id`, Windows MachineGuid, macOS IOPlatformUUID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine_id: Option<String>,
    /// Hardware serial number as reported by firmware; may be a placeholder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default)]
    pub mac_addresses: Vec<String>,
    #[serde(default)]
    pub disks: Vec<DiskInventory>,
}

/// One physical or logical disk as seen at inventory time.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DiskInventory {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
    #[serde(default)]
    pub size_bytes: u64,
    /// `ssd`, `hdd`, `nvme` or `unknown`.
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub removable: bool,
}

impl Inventory {
    /// The serial number if it can identify hardware (not a firmware placeholder).
    pub fn identifying_serial(&self) -> Option<&str> {
        self.serial_number
            .as_deref()
            .map(str::trim)
            .filter(|s| !is_placeholder_serial(s))
    }

    /// The machine id if present and not blank or all zeros.
    pub fn identifying_machine_id(&self) -> Option<&str> {
        self.machine_id
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty() && !s.chars().all(|c| c == '0' || c == '-'))
    }
}

/// Known firmware placeholder strings (compared case-insensitively, ignoring punctuation and
/// whitespace). Vendors ship boards with these instead of a real serial number.
const PLACEHOLDERS: &[&str] = &[
    "tobefilledbyoem",
    "tobefilledbyo.e.m.",
    "defaultstring",
    "systemserialnumber",
    "chassisserialnumber",
    "serialnumber",
    "notspecified",
    "notapplicable",
    "none",
    "null",
    "na",
    "n/a",
    "unknown",
    "oem",
    "invalid",
    "empty",
    "xxxxxxxxxx",
    "123456789",
    "0123456789",
    "1234567890",
];

/// True when `serial` cannot identify a machine: empty, all zeros (or one repeated character),
/// or one of the well-known firmware placeholders such as "To be filled by O.E.M.".
pub fn is_placeholder_serial(serial: &str) -> bool {
    let norm: String = serial
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '/')
        .flat_map(char::to_lowercase)
        .collect();
    if norm.is_empty() {
        return true;
    }
    let compact: String = norm.chars().filter(|c| *c != '/').collect();
    if compact.is_empty() {
        return true;
    }
    let mut chars = compact.chars();
    let first = chars.next();
    if let Some(first) = first
        && chars.all(|c| c == first)
    {
        // "0", "00000000", "xxxxxx", "11111111", "FFFFFFFF".
        return true;
    }
    PLACEHOLDERS.iter().any(|p| {
        p.chars()
            .filter(|c| c.is_alphanumeric())
            .collect::<String>()
            == compact
            || *p == norm
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholder_serials_are_recognised() {
        for s in [
            "",
            "   ",
            "0",
            "00000000",
            "To be filled by O.E.M.",
            "TO BE FILLED BY O.E.M.",
            "Default string",
            "System Serial Number",
            "Chassis Serial Number",
            "Not Specified",
            "N/A",
            "None",
            "0000-0000-0000",
            "FFFFFFFF",
            "123456789",
        ] {
            assert!(is_placeholder_serial(s), "{s:?} should be a placeholder");
        }
    }

    #[test]
    fn real_serials_identify() {
        for s in [
            "PF2XK9LM",
            "5CD1234XYZ",
            "C02ZK0ABMD6R",
            "VMware-56 4d 1a",
            "0A1B2C",
        ] {
            assert!(!is_placeholder_serial(s), "{s:?} is a real serial");
        }
    }

    #[test]
    fn identifying_fields_skip_placeholders() {
        let inv = Inventory {
            hostname: "h".into(),
            serial_number: Some("Default string".into()),
            machine_id: Some("00000000-0000".into()),
            ..Default::default()
        };
        assert_eq!(inv.identifying_serial(), None);
        assert_eq!(inv.identifying_machine_id(), None);
        let inv = Inventory {
            serial_number: Some(" PF2XK9LM ".into()),
            machine_id: Some("4c4c4544004d".into()),
            ..inv
        };
        assert_eq!(inv.identifying_serial(), Some("PF2XK9LM"));
        assert_eq!(inv.identifying_machine_id(), Some("4c4c4544004d"));
    }
}
