//! One test per rule of the crontab reader and per kind of rejected line.

use super::*;

fn one(text: &str) -> Entry {
    let parsed = parse(text, Flavor::User);
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    assert_eq!(parsed.entries.len(), 1, "{:?}", parsed.entries);
    parsed.entries.into_iter().next().unwrap()
}

fn error(text: &str, flavor: Flavor) -> LineError {
    let parsed = parse(text, flavor);
    assert_eq!(parsed.errors.len(), 1, "{text}: {:?}", parsed.errors);
    parsed.errors.into_iter().next().unwrap()
}

#[test]
fn five_fields_and_the_command_as_written() {
    let e = one("*/15 9-17 * jan-mar mon-fri   /usr/bin/backup.sh --full  \n");
    assert_eq!(
        e.when,
        When::Fields {
            fields: ["*/15", "9-17", "*", "jan-mar", "mon-fri"].map(String::from),
        }
    );
    assert_eq!(e.command, "/usr/bin/backup.sh --full  ");
    assert_eq!((e.line, e.disabled, e.stdin.as_deref()), (1, false, None));
}

#[test]
fn fields_are_kept_as_written_and_read_with_crons_grammar() {
    // No rewriting: job files read the day fields as cronie does.
    let e = one("0 0 */2 * 1 x");
    assert_eq!(
        e.when,
        When::Fields {
            fields: ["0", "0", "*/2", "*", "1"].map(String::from)
        }
    );
    // Steps larger than their range are cron's (cronie warns, and runs them).
    assert!(matches!(
        one("1-59/61 */100 * * * x").when,
        When::Fields { .. }
    ));
    for (line, reason) in [
        (
            "1,,2 * * * * x",
            "minute field: `1,,2` has an empty element",
        ),
        (
            "0 0 * * */MON x",
            "day of week field: `*/MON`: the step after `/` must be a number",
        ),
        (
            "0 0 L * * x",
            "day of month field: `L`: `L` (\"the last\") is Quartz syntax",
        ),
        (
            "0 0 * * 5#3 x",
            "`#` (\"the nth weekday\") is Quartz syntax",
        ),
        ("*/0 * * * * x", "minute field: `*/0`: a step of 0"),
    ] {
        let e = error(line, Flavor::User);
        assert!(e.reason.contains(reason), "{line}: {}", e.reason);
    }
}

#[test]
fn nicknames_are_lower_cased_and_every_is_refused() {
    assert_eq!(one("@Daily x").when, When::Nickname("@daily".into()));
    assert_eq!(
        one("@reboot /bin/boot").when,
        When::Nickname("@reboot".into())
    );
    let e = error("@every 5m x", Flavor::User);
    assert!(e.reason.contains("`@every` is slotcron's"), "{}", e.reason);
    let e = error("@fortnightly x", Flavor::User);
    assert!(e.reason.contains("unknown nickname `@fortnightly`"));
}

#[test]
fn environment_lines_apply_to_the_lines_below_only() {
    let text = "0 1 * * * before\nSHELL=/bin/bash\nMAILTO=\"ops@example.com\"\n\
                CRON_TZ=Europe/Berlin\nFOO = 'a b'\nPATH=/usr/bin:/bin\n0 2 * * * after\n";
    let parsed = parse(text, Flavor::User);
    let [before, after] = &parsed.entries[..] else {
        panic!("{parsed:?}")
    };
    assert!(before.env.is_empty() && before.shell.is_none() && before.timezone.is_none());
    assert_eq!(after.shell.as_deref(), Some("/bin/bash"));
    assert_eq!(after.mailto.as_deref(), Some("ops@example.com"));
    assert_eq!(after.timezone.as_deref(), Some("Europe/Berlin"));
    assert_eq!(
        after.env,
        [
            ("FOO".into(), "a b".into()),
            ("PATH".into(), "/usr/bin:/bin".into())
        ]
    );
}

#[test]
fn percent_ends_the_command_and_feeds_stdin() {
    let e = one(r"0 9 * * 1 mail -s 'Week \%U' ops%Hello,%%it is Monday\%!");
    assert_eq!(e.command, "mail -s 'Week %U' ops");
    assert_eq!(e.stdin.as_deref(), Some(r"Hello,%%it is Monday\%!"));
    assert_eq!(
        stdin_bytes(e.stdin.as_deref().unwrap()),
        "Hello,\n\nit is Monday%!\n"
    );
    // As cronie: a newline after the last character unless it is one; `\\` stays.
    assert_eq!(stdin_bytes("line1%line2"), "line1\nline2\n");
    assert_eq!(stdin_bytes("line1%"), "line1\n");
    assert_eq!(stdin_bytes(r"a\b\"), "a\\b\\\n");
    let e = one(r"0 0 * * * echo \\%in");
    assert_eq!(
        (e.command.as_str(), e.stdin.as_deref()),
        (r"echo \\", Some("in"))
    );
    let e = one(r"0 0 * * * date +\%F > /tmp/d");
    assert_eq!((e.command.as_str(), e.stdin), ("date +%F > /tmp/d", None));
    let e = error("0 0 * * * %only stdin", Flavor::User);
    assert!(e.reason.contains("command before the first `%` is empty"));
}

#[test]
fn the_comment_block_above_becomes_the_description() {
    let text = "# m h  dom mon dow   command\n# unrelated\n\n# Nightly backup\n#   of /srv\n\
                0 2 * * * backup\n0 3 * * * other\n";
    let parsed = parse(text, Flavor::User);
    assert_eq!(parsed.entries[0].comment, ["Nightly backup", "of /srv"]);
    assert!(parsed.entries[1].comment.is_empty());
}

#[test]
fn commented_out_entries_are_disabled_entries() {
    let text = "# Old report\n#0 2 * * * /bin/report\n# not an entry: 0 2 * * *\n";
    let parsed = parse(text, Flavor::User);
    assert!(parsed.errors.is_empty());
    let [e] = &parsed.entries[..] else {
        panic!("{parsed:?}")
    };
    assert!(e.disabled);
    assert_eq!((e.command.as_str(), e.line), ("/bin/report", 2));
    assert_eq!(e.comment, ["Old report"]);
}

#[test]
fn the_system_format_has_a_user_field() {
    let parsed = parse(
        "17 * * * * root cd / && run-parts /etc/cron.hourly\n",
        Flavor::System,
    );
    let e = &parsed.entries[0];
    assert_eq!(e.user.as_deref(), Some("root"));
    assert_eq!(e.command, "cd / && run-parts /etc/cron.hourly");
    let e = error("0 0 * * * * root x", Flavor::System);
    assert!(
        e.reason.contains("looks like a sixth time field"),
        "{}",
        e.reason
    );
    let e = error("@daily root", Flavor::System);
    assert!(e.reason.contains("no command"), "{}", e.reason);
}

#[test]
fn every_bad_line_is_reported_with_its_number_and_the_others_still_read() {
    let text = "0 0 * * * ok\n0 0 * * * * six\n0 25 * * * x\n5-1 * * * * x\n0 0 * *\n\
                0 0 * * mon-xyz x\n0 0 1 * * ok2\n";
    let parsed = parse(text, Flavor::User);
    assert_eq!(parsed.entries.len(), 2);
    let lines: Vec<(usize, &str)> = parsed
        .errors
        .iter()
        .map(|e| (e.line, e.reason.as_str()))
        .collect();
    assert_eq!(lines.len(), 5, "{lines:?}");
    assert!(
        lines[0].0 == 2 && lines[0].1.contains("six time fields"),
        "{lines:?}"
    );
    assert!(lines[1].0 == 3 && lines[1].1.contains("hour field: `25` is out of range 0-23"));
    assert!(lines[2].0 == 4 && lines[2].1.contains("runs backwards"));
    assert!(lines[3].0 == 5 && lines[3].1.contains("fewer than five"));
    assert!(
        lines[4].0 == 6
            && lines[4]
                .1
                .contains("`xyz` is not a number 0-7 or a name (sun,"),
        "{lines:?}"
    );
    assert_eq!(parsed.errors[0].text, "0 0 * * * * six");
}
