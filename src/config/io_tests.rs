//! `io:` parsing, device resolution and the errors each names.

use std::collections::BTreeMap;

use super::*;
use crate::config::{Problems, Settings, System, parse_job};

/// A machine with the block devices given (path -> number), and `/dev/null`.
struct Devices(BTreeMap<&'static str, DevNum>);

impl BlockDevices for Devices {
    fn number(&self, path: &Path) -> Result<DevNum, DeviceError> {
        match path.to_str() {
            Some("/dev/null") => Err(DeviceError::NotBlock("a character device")),
            Some(p) => self
                .0
                .get(p)
                .copied()
                .ok_or_else(|| DeviceError::Missing("No such file or directory".into())),
            None => Err(DeviceError::Missing("not UTF-8".into())),
        }
    }

    fn exists(&self, number: DevNum) -> bool {
        self.0.values().any(|n| *n == number)
    }
}

const VDA: DevNum = DevNum {
    major: 254,
    minor: 0,
};

fn machine() -> Devices {
    Devices(BTreeMap::from([("/dev/vda", VDA)]))
}

/// Parses `yaml` as the `io:` of a job file and resolves it on [`machine`].
fn load(yaml: &str) -> Result<IoConfig, Vec<String>> {
    let raw: RawIo = serde_saphyr::from_str(yaml).expect("valid YAML");
    let file = Path::new("/j/a.yaml");
    let mut f = Fields::new(file);
    let io = parse(&mut f, "io", Some(&raw)).and_then(|s| resolve(&mut f, "io", s, &machine()));
    match io {
        Some(io) if f.problems.is_empty() => Ok(io),
        _ => Err(f.problems.iter().map(ToString::to_string).collect()),
    }
}

#[test]
fn a_path_and_a_number_resolve_to_the_same_device_and_sizes_take_units() {
    let io = load("weight: 500\nmax: [{ device: /dev/vda, wbps: 10M, riops: 200 }]\n").unwrap();
    assert_eq!(io.weight, Some(500));
    assert_eq!(
        io.max,
        [DeviceMax {
            device: "/dev/vda".into(),
            number: VDA,
            rbps: None,
            wbps: Some(10 << 20),
            riops: Some(200),
            wiops: None,
        }]
    );
    let by_number = load("max: [{ device: 254:0, rbps: 1048576 }]\n").unwrap();
    assert_eq!(by_number.max[0].number, VDA);
    assert_eq!(by_number.max[0].rbps, Some(1 << 20));
    // The job's JSON keeps the device as written and its number.
    let json = serde_json::to_value(&io).unwrap();
    assert_eq!(json["max"][0]["device"], "/dev/vda");
    assert_eq!(json["max"][0]["number"], "254:0");
}

#[test]
fn each_bad_value_is_named_with_its_field() {
    let cases = [
        (
            "weight: 0\n",
            "field `io.weight`: must be a whole number from 1 to 10000 (value: `0`)",
        ),
        (
            "weight: 10001\n",
            "field `io.weight`: must be a whole number from 1 to 10000 (value: `10001`)",
        ),
        (
            "max: [{ device: /dev/null, wbps: 1M }]\n",
            "field `io.max[0].device`: is not a block device (it is a character device) (value: `/dev/null`)",
        ),
        (
            "max: [{ device: /dev/vdz, wbps: 1M }]\n",
            "field `io.max[0].device`: no such device: No such file or directory (value: `/dev/vdz`)",
        ),
        (
            "max: [{ device: \"4095:7\", wbps: 1M }]\n",
            "field `io.max[0].device`: no block device 4095:7 on this machine (value: `4095:7`)",
        ),
        (
            "max: [{ device: vda, wbps: 1M }]\n",
            "field `io.max[0].device`: must be a block device's path (/dev/vda) or its number MAJ:MIN (253:0) (value: `vda`)",
        ),
        (
            "max: [{ device: /dev/vda }]\n",
            "field `io.max[0]`: sets none of rbps, wbps, riops, wiops (value: `/dev/vda`)",
        ),
        (
            "max: [{ device: /dev/vda, wbps: 0 }]\n",
            "field `io.max[0].wbps`: must be above 0 (leave it out for no cap) (value: `0`)",
        ),
        (
            "max: [{ device: /dev/vda, wbps: fast }]\n",
            "field `io.max[0].wbps`: not a size",
        ),
        (
            "max: [{ wbps: 1M }]\n",
            "field `io.max[0].device`: every io.max entry names its device",
        ),
        (
            "max: [{ device: /dev/vda, wbps: 1M }, { device: \"254:0\", rbps: 1M }]\n",
            "field `io.max[1].device`: names device 254:0 again (as io.max[0] does) (value: `254:0`)",
        ),
    ];
    for (yaml, expected) in cases {
        let problems = load(yaml).unwrap_err();
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "{yaml}: expected {expected:?} in {problems:#?}"
        );
    }
}

#[test]
fn the_system_lookup_knows_character_devices_and_missing_numbers() {
    assert_eq!(
        SystemDevices.number(Path::new("/dev/null")),
        Err(DeviceError::NotBlock("a character device"))
    );
    assert!(matches!(
        SystemDevices.number(Path::new("/dev/slotcron-no-such-disk")),
        Err(DeviceError::Missing(_))
    ));
    assert!(!SystemDevices.exists(DevNum {
        major: 4095,
        minor: 1_048_575
    }));
    // A block device of this machine, where there is one to look at.
    let Some((path, number)) = ["/dev/vda", "/dev/sda", "/dev/loop0", "/dev/nvme0n1"]
        .iter()
        .find_map(|p| Some((*p, SystemDevices.number(Path::new(p)).ok()?)))
    else {
        println!("skipped: no block device node on this machine to resolve");
        return;
    };
    assert!(SystemDevices.exists(number), "{path} is {number}");
}

#[test]
fn slots_and_jobs_take_io_and_name_their_fields() {
    let settings = Settings::parse(
        Path::new("/etc/slotcron/slotcron.yaml"),
        "slots:\n  default: { memory_max: 1G, io: { weight: 200 } }\n",
    )
    .unwrap();
    assert_eq!(
        settings.slots["default"].io,
        Some(IoConfig {
            weight: Some(200),
            max: Vec::new()
        })
    );
    assert_eq!(Settings::builtin().slots["default"].io, None);
    let err = Settings::parse(
        Path::new("/etc/slotcron/slotcron.yaml"),
        "slots:\n  default: { memory_max: 1G, io: { weight: 0, max: [{ device: /dev/null, wbps: 1M }] } }\n",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains(
            "field `slots.default.io.weight`: must be a whole number from 1 to 10000 (value: `0`)"
        ),
        "{err}"
    );
    let settings = Settings::builtin();
    let err = Problems(
        parse_job(
            Path::new("/j/dd.yaml"),
            "command: x\nio: { max: [{ device: /dev/null, wbps: 1M }] }\n",
            &settings,
        )
        .unwrap_err(),
    )
    .to_string();
    assert!(
        err.contains("/j/dd.yaml: field `io.max[0].device`: is not a block device (it is a character device) (value: `/dev/null`)"),
        "{err}"
    );
    let err = Problems(
        parse_job(
            Path::new("/j/dd.yaml"),
            "command: x\nio: { max: [{ device: /dev/vda, wbps: 1M, bps: 2M }] }\n",
            &settings,
        )
        .unwrap_err(),
    )
    .to_string();
    assert!(err.contains("unknown field `bps`"), "{err}");
    let job = parse_job(
        Path::new("/j/ok.yaml"),
        "command: x\nio: { weight: 50 }\n",
        &settings,
    )
    .unwrap();
    assert_eq!(job.io.map(|io| io.weight), Some(Some(50)));
}

#[test]
fn a_slots_devices_are_looked_up_on_the_system_it_is_given() {
    let machine = machine();
    let system = System {
        accounts: &crate::config::FixedAccounts::default(),
        devices: &machine,
    };
    let path = Path::new("/etc/slotcron/slotcron.yaml");
    let settings = Settings::parse_on(
        path,
        "slots:\n  default: { memory_max: 1G, io: { max: [{ device: /dev/vda, wbps: 5M }] } }\n",
        system,
    )
    .unwrap();
    let io = settings.slots["default"].io.as_ref().unwrap();
    assert_eq!((io.max[0].number, io.max[0].wbps), (VDA, Some(5 << 20)));
    let err = Settings::parse_on(
        path,
        "slots:\n  default: { memory_max: 1G, io: { max: [{ device: /dev/vdb, wbps: 5M }] } }\n",
        system,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("field `slots.default.io.max[0].device`: no such device: No such file or directory (value: `/dev/vdb`)"),
        "{err}"
    );
}
