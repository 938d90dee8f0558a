use super::*;

fn v(text: &str) -> Version {
    Version::parse(text).unwrap_or_else(|| panic!("{text} parses"))
}

fn event(tag: &str, commit: &str, time: i64) -> TagEvent {
    TagEvent {
        tag: RegistryTag::parse(tag).unwrap_or_else(|| panic!("{tag} is a registry tag")),
        commit: commit.into(),
        time,
        author: "T".into(),
        author_email: "t@example.com".into(),
        message: String::new(),
    }
}

#[test]
fn versions_parse_print_and_order_by_semver_precedence() {
    for text in [
        "v0.0.1",
        "v1.2.3",
        "v1.0.0-rc.1",
        "v1.0.0-alpha.beta+build.5",
    ] {
        assert_eq!(v(text).to_string(), text);
    }
    for bad in [
        "1.2.3",
        "v1.2",
        "v01.2.3",
        "v1.2.3-01",
        "v1.2.3-",
        "v1.2.3+",
        "v1.2.3.4",
    ] {
        assert_eq!(Version::parse(bad), None, "{bad}");
    }
    // The SemVer 2 specification's example order.
    let ordered = [
        "v1.0.0-alpha",
        "v1.0.0-alpha.1",
        "v1.0.0-alpha.beta",
        "v1.0.0-beta",
        "v1.0.0-beta.2",
        "v1.0.0-beta.11",
        "v1.0.0-rc.1",
        "v1.0.0",
        "v1.0.1",
        "v1.10.0",
        "v2.0.0",
    ];
    for pair in ordered.windows(2) {
        assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
    }
}

#[test]
fn bumps_start_at_v0_0_1_and_drop_prereleases() {
    assert_eq!(Version::next(None, Bump::Minor), v("v0.0.1"));
    assert_eq!(Version::next(Some(&v("v0.0.1")), Bump::Patch), v("v0.0.2"));
    assert_eq!(Version::next(Some(&v("v0.3.4")), Bump::Minor), v("v0.4.0"));
    assert_eq!(
        Version::next(Some(&v("v0.3.4-rc.1")), Bump::Major),
        v("v1.0.0")
    );
}

#[test]
fn gto_tag_names_round_trip() {
    let cases = [
        ("churn@v0.0.1", Action::Register(v("v0.0.1")), None),
        ("churn@v0.0.1!", Action::Deregister(v("v0.0.1")), None),
        ("churn#prod#1", Action::Assign("prod".into()), Some(1)),
        ("churn#dev!#4", Action::Unassign("dev".into()), Some(4)),
        ("churn#prod", Action::Assign("prod".into()), None),
        ("churn@deprecated", Action::Deprecate, None),
        ("churn@created", Action::Create, None),
        ("churn@deprecated#7", Action::Deprecate, Some(7)),
    ];
    for (name, action, counter) in cases {
        let tag = RegistryTag::parse(name).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(
            (&tag.artifact[..], &tag.action, tag.counter),
            ("churn", &action, counter),
            "{name}"
        );
        assert_eq!(tag.name(), name);
    }
    let nested = RegistryTag::parse("models/tabular=churn@v1.0.0").expect("a folder artifact");
    assert_eq!(nested.artifact, "models/tabular:churn");
    assert_eq!(nested.name(), "models/tabular=churn@v1.0.0");
}

#[test]
fn other_tags_are_not_registry_events() {
    for name in [
        "v1.0.0",
        "release-2026",
        "churn@1.0.0",
        "churn@latest",
        "-churn@v1.0.0",
        "churn-@v1.0.0",
        "churn#",
        "churn#pr od#1",
        "a=b=c@v1.0.0",
        "churn@v1.0.0#x",
    ] {
        assert_eq!(RegistryTag::parse(name), None, "{name}");
    }
}

#[test]
fn the_registry_follows_registrations_stages_and_deprecation() {
    // The sequence gto 1.10.1 wrote in a test repository.
    let events = vec![
        event("churn@v0.0.1", "c1", 100),
        event("churn#prod#1", "c1", 101),
        event("churn@v0.1.0", "c2", 107),
        event("churn#prod#2", "c2", 108),
        event("churn#dev#3", "c2", 109),
        event("churn#dev!#4", "c2", 116),
        event("churn@v0.0.1!", "c1", 116),
    ];
    let state = registry(events.clone());
    let churn = &state["churn"];
    assert_eq!(churn.next_counter(), 5);
    assert_eq!(
        churn.latest().map(|l| l.version.to_string()),
        Some("v0.1.0".into())
    );
    let stages: Vec<(String, String)> = churn
        .stages()
        .into_iter()
        .map(|(s, version)| (s, version.version.to_string()))
        .collect();
    assert_eq!(stages, [("prod".to_string(), "v0.1.0".to_string())]);
    let old = churn.version(&v("v0.0.1")).expect("v0.0.1");
    assert!(!old.registered);
    assert!(old.active_stages().is_empty());
    assert!(!churn.deprecated);

    // Order of the tags does not matter; ties at one instant go by GTO's
    // priorities (registration before assignment).
    let mut shuffled = events;
    shuffled.reverse();
    assert_eq!(registry(shuffled)["churn"], *churn);

    let mut deprecated = vec![event("churn@v0.0.1", "c1", 100)];
    deprecated.push(event("churn@deprecated", "c1", 100));
    assert!(registry(deprecated)["churn"].deprecated);
}

#[test]
fn the_newest_assignment_in_effect_holds_a_stage() {
    // What gto 1.10.1 shows for this sequence: prod moves to the older
    // version assigned it last, and comes back when that is unassigned.
    let mut events = vec![
        event("m@v1.0.0", "a", 1),
        event("m@v2.0.0", "b", 2),
        event("m#prod#1", "b", 3),
        event("m#prod#2", "a", 4),
    ];
    let state = registry(events.clone());
    assert_eq!(state["m"].stages()["prod"].version, v("v1.0.0"));
    assert!(state["m"].stages_of(&v("v2.0.0")).is_empty());
    assert_eq!(state["m"].latest().map(|l| &l.version), Some(&v("v2.0.0")));

    events.push(event("m#prod!#3", "a", 5));
    let state = registry(events.clone());
    assert_eq!(state["m"].stages()["prod"].version, v("v2.0.0"));

    // A deregistered version holds nothing.
    events.push(event("m#prod#4", "a", 6));
    events.push(event("m@v1.0.0!", "a", 7));
    let state = registry(events);
    assert_eq!(state["m"].stages()["prod"].version, v("v2.0.0"));
}

mod ops {
    use super::super::*;

    fn tag(name: &str, commit: &str, time: i64) -> IndexedTag {
        IndexedTag {
            name: name.into(),
            target: format!("t-{name}"),
            commit: commit.into(),
            time,
            author: "a".into(),
            author_email: "a@x".into(),
            message: String::new(),
        }
    }

    #[test]
    fn registration_bumps_the_highest_version_and_is_idempotent_per_commit() {
        let empty = registry_of(&[]);
        let lineage = Lineage {
            sha256: Some("ab".repeat(32)),
            run: Some("7".into()),
            ..Lineage::default()
        };
        let Registration::Tag { tag: made, version } =
            plan_register(&empty, "churn", None, Bump::Patch, "c1", &lineage).expect("plans")
        else {
            panic!("expected a tag");
        };
        assert_eq!(
            (made.name.as_str(), version.to_string()),
            ("churn@v0.0.1", "v0.0.1".into())
        );
        assert!(
            made.message
                .starts_with("Registering artifact churn version v0.0.1\n\n")
        );
        assert_eq!(Lineage::parse(&made.message), lineage);

        let tags = [tag("churn@v0.0.1", "c1", 10), tag("churn@v0.1.0", "c2", 20)];
        let reg = registry_of(&tags);
        let next = plan_register(&reg, "churn", None, Bump::Minor, "c3", &Lineage::default());
        assert!(
            matches!(next, Ok(Registration::Tag { ref version, .. }) if version.to_string() == "v0.2.0")
        );
        assert_eq!(
            plan_register(&reg, "churn", None, Bump::Patch, "c2", &Lineage::default()),
            Ok(Registration::Already(Version::parse("v0.1.0").expect("v")))
        );
        assert!(matches!(
            plan_register(
                &reg,
                "churn",
                Some("v0.0.1"),
                Bump::Patch,
                "c3",
                &Lineage::default()
            ),
            Err(RegistryError::VersionExists { .. })
        ));
        assert!(matches!(
            plan_register(
                &reg,
                "churn",
                Some("v9.0.0"),
                Bump::Patch,
                "c2",
                &Lineage::default()
            ),
            Err(RegistryError::VersionExistsForCommit { .. })
        ));
        assert!(matches!(
            plan_register(
                &reg,
                "churn",
                Some("1.0"),
                Bump::Patch,
                "c3",
                &Lineage::default()
            ),
            Err(RegistryError::InvalidVersion(_))
        ));
        assert!(matches!(
            plan_register(&reg, "-bad", None, Bump::Patch, "c3", &Lineage::default()),
            Err(RegistryError::InvalidName(_))
        ));
    }

    #[test]
    fn stage_tags_count_past_every_tag_of_the_model() {
        let tags = [
            tag("churn@v0.0.1", "c1", 10),
            tag("churn@v0.0.2", "c2", 20),
            tag("churn#prod#1", "c1", 30),
            tag("churn#dev#4", "c2", 40),
        ];
        let reg = registry_of(&tags);
        let assign = plan_assign(&reg, "churn", "v0.0.2", "prod").expect("plans");
        assert_eq!(assign.name, "churn#prod#5");
        assert_eq!(assign.commit, "c2");
        assert_eq!(
            assign.message,
            "Assigning stage prod to artifact churn version v0.0.2"
        );
        assert!(matches!(
            plan_assign(&reg, "churn", "v0.0.1", "prod"),
            Err(RegistryError::AlreadyInStage { .. })
        ));
        let unassign = plan_unassign(&reg, "churn", "v0.0.2", "dev").expect("plans");
        assert_eq!(unassign.name, "churn#dev!#5");
        assert!(matches!(
            plan_unassign(&reg, "churn", "v0.0.1", "dev"),
            Err(RegistryError::NoStage { .. })
        ));
        let err = plan_assign(&reg, "churn", "v3.0.0", "prod").expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "`churn` has no version v3.0.0; known: v0.0.2, v0.0.1"
        );
        assert!(matches!(
            plan_assign(&reg, "nope", "v0.0.1", "prod"),
            Err(RegistryError::UnknownModel { .. })
        ));
        let dereg = plan_deregister(&reg, "churn", "v0.0.1").expect("plans");
        assert_eq!(
            (dereg.name.as_str(), dereg.commit.as_str()),
            ("churn@v0.0.1!", "c1")
        );
        let deprecate = plan_deprecate(&reg, "churn", "head").expect("plans");
        assert_eq!(deprecate.name, "churn@deprecated");
    }

    #[test]
    fn artifacts_yaml_reads_as_gto_reads_it() {
        let models = parse_artifacts_yaml(
            "churn:\n  type: model\n  path: models/churn.pkl\n  description: churn predictor\n  labels: [tabular, prod]\nvirtual-one:\n  type: model\n",
        )
        .expect("parses");
        let churn = &models["churn"];
        assert_eq!(churn.path.as_deref(), Some("models/churn.pkl"));
        assert_eq!(churn.labels, ["tabular", "prod"]);
        assert!(!churn.is_virtual);
        assert!(models["virtual-one"].is_virtual);
        assert!(parse_artifacts_yaml("churn: [1, 2]").is_err());
        assert!(parse_artifacts_yaml("churn:\n  path: [x]\n").is_err());
        assert!(parse_artifacts_yaml("").expect("empty").is_empty());
    }
}

#[test]
fn promote_policy_defaults_to_write_and_names_its_mistakes() {
    use super::PromotePolicy;
    let open = PromotePolicy::parse("").expect("empty");
    assert_eq!(open.rule("prod"), Ok(("write".into(), Vec::new())));
    let policy = PromotePolicy::parse(
        "promote:\n  require_checks: [model-eval]\n  stages:\n    dev: {}\n    prod: { permission: maintain, require_checks: [model-eval, data-quality] }\n",
    )
    .expect("parses");
    assert_eq!(
        policy.rule("dev"),
        Ok(("write".into(), vec!["model-eval".into()]))
    );
    assert_eq!(
        policy.rule("prod"),
        Ok((
            "maintain".into(),
            vec!["model-eval".into(), "data-quality".into()]
        ))
    );
    let error = policy.rule("prd").expect_err("unknown stage");
    assert!(error.contains("allows dev, prod"), "{error}");
    assert!(PromotePolicy::parse("promote:\n  permision: write\n").is_err());
    assert!(PromotePolicy::parse("promote:\n  permission: god\n").is_err());
}

#[test]
fn a_bump_starts_from_the_highest_version_still_registered() {
    use super::{IndexedTag, Lineage, Registration, RegistryError, plan_register, registry_of};
    let tag = |name: &str, commit: &str, time: i64| IndexedTag {
        name: name.into(),
        target: format!("t-{name}"),
        commit: commit.into(),
        time,
        author: "a".into(),
        author_email: "a@x".into(),
        message: String::new(),
    };
    let tags = [
        tag("churn@v0.1.0", "c1", 1),
        tag("churn@v1.0.0", "c2", 2),
        tag("churn@v1.0.0!", "c2", 3),
    ];
    let reg = registry_of(&tags);
    let next = plan_register(&reg, "churn", None, Bump::Patch, "c3", &Lineage::default());
    assert!(
        matches!(next, Ok(Registration::Tag { ref version, .. }) if version.to_string() == "v0.1.1"),
        "{next:?}"
    );
    let onto = plan_register(&reg, "churn", None, Bump::Major, "c3", &Lineage::default());
    assert!(
        matches!(onto, Err(RegistryError::VersionExists { .. })),
        "{onto:?}"
    );
}
