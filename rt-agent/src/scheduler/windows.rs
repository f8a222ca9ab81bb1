//! Windows Task Scheduler: a task with a boot trigger and a repeating time trigger, run as
//! SYSTEM (S-1-5-18) for machine-wide installs, never stopped on battery, created with
//! `schtasks /Create /TN \ResourceTracker\rt-agent /XML FILE /F` and removed with
//! `schtasks /Delete`. The XML is generated here on any OS; only running schtasks needs Windows.

use super::{Host, Plan, PlannedFile, Scope, Spec, WINDOWS_TASK_NAME};
use anyhow::Result;

/// An ISO 8601 duration as Task Scheduler writes it: `PT15M`, `PT2H`, `PT90S`.
pub fn duration(secs: u64) -> String {
    if secs.is_multiple_of(3600) {
        format!("PT{}H", secs / 3600)
    } else if secs.is_multiple_of(60) {
        format!("PT{}M", secs / 60)
    } else {
        format!("PT{secs}S")
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// Quotes one argument the way the Windows C runtime splits command lines.
fn win_arg(a: &str) -> String {
    if !a.is_empty() && !a.contains([' ', '\t', '"']) {
        return a.to_string();
    }
    let mut out = String::from("\"");
    let mut backslashes = 0;
    for c in a.chars() {
        match c {
            '\\' => backslashes += 1,
            '"' => {
                out.push_str(&"\\".repeat(backslashes * 2 + 1));
                out.push('"');
                backslashes = 0;
            }
            _ => {
                out.push_str(&"\\".repeat(backslashes));
                out.push(c);
                backslashes = 0;
            }
        }
    }
    out.push_str(&"\\".repeat(backslashes * 2));
    out.push('"');
    out
}

/// The task definition. `user` is the account for a per-user install (`DOMAIN\name`); machine
/// installs run as SYSTEM.
pub fn task_xml(spec: &Spec, user: Option<&str>) -> String {
    let args: Vec<String> = spec.agent_args().iter().map(|a| win_arg(a)).collect();
    let principal = match (spec.scope, user) {
        (Scope::User, Some(u)) => format!(
            "      <UserId>{}</UserId>\n      <LogonType>InteractiveToken</LogonType>\n      <RunLevel>LeastPrivilege</RunLevel>\n",
            xml_escape(u)
        ),
        _ => "      <UserId>S-1-5-18</UserId>\n      <RunLevel>HighestAvailable</RunLevel>\n"
            .to_string(),
    };
    let jitter = (spec.interval_s / 10).clamp(1, 300);
    format!(
        r#"<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Author>ResourceTracker</Author>
    <Description>ResourceTracker agent: collect and upload device health every {every}. Installed by rt-agent install; removed by rt-agent uninstall.</Description>
    <URI>{uri}</URI>
  </RegistrationInfo>
  <Triggers>
    <BootTrigger>
      <Enabled>true</Enabled>
      <Delay>PT2M</Delay>
    </BootTrigger>
    <TimeTrigger>
      <Repetition>
        <Interval>{interval}</Interval>
        <StopAtDurationEnd>false</StopAtDurationEnd>
      </Repetition>
      <StartBoundary>2020-01-01T00:00:00</StartBoundary>
      <Enabled>true</Enabled>
      <RandomDelay>{jitter}</RandomDelay>
    </TimeTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
{principal}    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <AllowHardTerminate>true</AllowHardTerminate>
    <StartWhenAvailable>true</StartWhenAvailable>
    <RunOnlyIfNetworkAvailable>false</RunOnlyIfNetworkAvailable>
    <IdleSettings>
      <StopOnIdleEnd>false</StopOnIdleEnd>
      <RestartOnIdle>false</RestartOnIdle>
    </IdleSettings>
    <AllowStartOnDemand>true</AllowStartOnDemand>
    <Enabled>true</Enabled>
    <Hidden>false</Hidden>
    <RunOnlyIfIdle>false</RunOnlyIfIdle>
    <WakeToRun>false</WakeToRun>
    <ExecutionTimeLimit>PT10M</ExecutionTimeLimit>
    <Priority>7</Priority>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>{command}</Command>
      <Arguments>{arguments}</Arguments>
    </Exec>
  </Actions>
</Task>
"#,
        every = super::human_interval(spec.interval_s),
        uri = xml_escape(WINDOWS_TASK_NAME),
        interval = duration(spec.interval_s),
        jitter = duration(jitter),
        command = xml_escape(&spec.exe.display().to_string()),
        arguments = xml_escape(&args.join(" ")),
    )
}

/// The XML as schtasks wants the file: UTF-16LE with a byte order mark (it matches the
/// `encoding="UTF-16"` declaration).
pub fn utf16le_with_bom(xml: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    for u in xml.encode_utf16() {
        out.extend_from_slice(&u.to_le_bytes());
    }
    out
}

/// A path without the verbatim prefix that `canonicalize` puts on Windows paths
/// (`\\?\C:\...` → `C:\...`, `\\?\UNC\host\share` → `\\host\share`): Task Scheduler actions
/// and the people reading them expect the ordinary form.
pub fn without_verbatim_prefix(path: &str) -> String {
    if let Some(unc) = path.strip_prefix(r"\\?\UNC\") {
        format!(r"\\{unc}")
    } else if let Some(rest) = path.strip_prefix(r"\\?\") {
        rest.to_string()
    } else {
        path.to_string()
    }
}

/// The text of a file made by [`utf16le_with_bom`], for showing it (`install --dry-run`): a
/// console prints the raw UTF-16 bytes as text with a NUL between letters. None for anything
/// else.
pub fn text_of_utf16le_with_bom(bytes: &[u8]) -> Option<String> {
    let body = bytes.strip_prefix(&[0xFF, 0xFE])?;
    if body.len() % 2 != 0 {
        return None;
    }
    let units: Vec<u16> = body
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).ok()
}

/// `schtasks /Create /TN \ResourceTracker\rt-agent /XML FILE /F`.
pub fn create_command(schtasks: &str, xml_file: &str) -> Vec<String> {
    [
        schtasks,
        "/Create",
        "/TN",
        WINDOWS_TASK_NAME,
        "/XML",
        xml_file,
        "/F",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// `schtasks /Delete /TN \ResourceTracker\rt-agent /F`.
pub fn delete_command(schtasks: &str) -> Vec<String> {
    [schtasks, "/Delete", "/TN", WINDOWS_TASK_NAME, "/F"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

pub fn plan(spec: &Spec, host: &Host) -> Result<Plan> {
    let user = match (std::env::var("USERDOMAIN"), std::env::var("USERNAME")) {
        (Ok(d), Ok(u)) => Some(format!("{d}\\{u}")),
        (_, Ok(u)) => Some(u),
        _ => None,
    };
    // The XML stays in the state directory: it is what was registered, for support and audit.
    let xml_path = spec.state_dir.join("rt-agent-task.xml");
    let schtasks = host.schtasks.display().to_string();
    Ok(Plan {
        files: vec![PlannedFile {
            path: xml_path.clone(),
            contents: utf16le_with_bom(&task_xml(spec, user.as_deref())),
            mode: 0o600,
        }],
        cron: None,
        commands: vec![create_command(&schtasks, &xml_path.display().to_string())],
        undo_commands: vec![delete_command(&schtasks)],
        after_undo: vec![],
        dirs: vec![],
        cleanup: vec![],
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn verbatim_prefixes_are_removed() {
        assert_eq!(
            without_verbatim_prefix(r"\\?\C:\Program Files\rt-agent.exe"),
            r"C:\Program Files\rt-agent.exe"
        );
        assert_eq!(
            without_verbatim_prefix(r"\\?\UNC\fs1\apps\rt-agent.exe"),
            r"\\fs1\apps\rt-agent.exe"
        );
        assert_eq!(
            without_verbatim_prefix(r"C:\rt\rt-agent.exe"),
            r"C:\rt\rt-agent.exe"
        );
    }

    #[test]
    fn utf16_file_reads_back_as_the_same_text() {
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<Task>é ✓</Task>\n";
        let bytes = utf16le_with_bom(xml);
        assert_eq!(text_of_utf16le_with_bom(&bytes).as_deref(), Some(xml));
        // Not ours: no byte order mark, an odd length, or a lone surrogate.
        assert_eq!(text_of_utf16le_with_bom(xml.as_bytes()), None);
        assert_eq!(text_of_utf16le_with_bom(&bytes[..bytes.len() - 1]), None);
        assert_eq!(text_of_utf16le_with_bom(&[0xFF, 0xFE, 0x00, 0xD8]), None);
    }
}
