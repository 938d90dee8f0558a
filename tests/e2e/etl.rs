//! ETL and data-diff through the real binary: an `etl` workflow stores
//! artifacts whose lineage and bytes `andon artifacts list|show|get`
//! report, later runs read them by name, mistakes in `with:` say where
//! they are, and `data-diff` comments on a changed dataset.

use std::path::PathBuf;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support::{TestRepo, assert_contains, project_root, stderr, stdout};

/// 303 orders: enough that the cleaned output is a file blob (over 4 KiB),
/// with a duplicate, a cancelled order and a missing amount to clean away.
fn orders_csv(amount_of_first: &str) -> String {
    let mut csv = String::from("id,customer_id,amount,status\n");
    csv.push_str(&format!("1,10,{amount_of_first},paid\n"));
    for id in 2..=300u32 {
        let status = match id % 3 {
            0 => "paid",
            1 => "shipped",
            _ => "new",
        };
        csv.push_str(&format!("{id},{},{}.50,{status}\n", 10 + id % 4, id * 3));
    }
    csv.push_str("2,11,6.50,new\n"); // a duplicate id
    csv.push_str("301,10,99,cancelled\n");
    csv.push_str("302,12,,paid\n");
    csv
}

const CUSTOMERS: &str = "customer_id,name,country\n10,Ada,FR\n11,Grace,US\n12,Edsger,NL\n";

fn etl_repo() -> TestRepo {
    let repo = TestRepo::new();
    repo.write("data/orders.csv", orders_csv("120"));
    repo.write("data/customers.csv", CUSTOMERS);
    repo.commit_all("data");
    repo
}

fn workflow(repo: &TestRepo, name: &str, text: &str) -> PathBuf {
    let file = repo.path().join(format!("{name}.yml"));
    std::fs::write(&file, text).expect("write workflow");
    file
}

const ETL: &str = r#"
name: etl
on: [manual]
steps:
  - id: clean
    uses: etl
    with:
      inputs: { orders: data/orders.csv }
      steps:
        - filter: 'status != "new" and status != "cancelled" and amount is not null'
        - deduplicate: [id]
        - derive:
            - amount_cents: round(amount * 100)
      output: orders_clean.csv
  - id: totals
    uses: etl
    with:
      inputs:
        orders: artifact:orders_clean.csv
        customers: data/customers.csv
      from: orders
      steps:
        - join: { with: customers, on: customer_id }
        - group_by: [country]
          aggregate:
            - orders: count()
            - revenue: sum(amount)
      output: totals.csv
"#;

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn artifacts(repo: &TestRepo, args: &[&str]) -> std::process::Output {
    let mut all = vec!["artifacts"];
    all.extend_from_slice(args);
    repo.andon(&all)
}

fn artifacts_json(repo: &TestRepo, args: &[&str]) -> Value {
    let out = artifacts(repo, args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(&out)))
}

/// The expected cleaned orders, computed here from the same rule.
fn expected_clean(orders: &str) -> String {
    let mut out = String::from("id,customer_id,amount,status,amount_cents\n");
    let mut seen = std::collections::HashSet::new();
    for line in orders.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f[3] == "new" || f[3] == "cancelled" || f[2].is_empty() || !seen.insert(f[0]) {
            continue;
        }
        let cents = (f[2].parse::<f64>().expect("amount") * 100.0).round() as i64;
        out.push_str(&format!("{line},{cents}\n"));
    }
    out
}

#[test]
fn an_etl_run_stores_artifacts_that_list_show_and_get_report() {
    let repo = etl_repo();
    let wf = workflow(&repo, "etl", ETL);
    let (code, json) = repo.run_json(&wf, &["--event", "manual"]);
    assert_eq!(code, 0, "{json:#}");
    let run = json["run"].as_u64().expect("run id");
    let stored: Vec<&Value> = json["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter(|a| a["kind"] == "artifact")
        .collect();
    assert_eq!(stored.len(), 2, "{json:#}");
    assert_eq!(stored[0]["name"], "orders_clean.csv");
    assert_eq!(stored[0]["media_type"], "text/csv");
    let summary = &json["steps"][0]["outputs"]["summary"];
    assert_eq!(summary["rows_read"]["orders"], 303, "{json:#}");

    // The bytes are exactly the cleaned orders, and their digest is the
    // one recorded.
    let expected = expected_clean(&orders_csv("120"));
    let out = artifacts(&repo, &["get", "orders_clean.csv"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), expected);
    assert_eq!(stored[0]["sha256"], sha256(expected.as_bytes()));
    assert_eq!(stored[0]["size"], expected.len());
    assert!(expected.len() > 4096, "the blob should be a file");
    let digest = sha256(expected.as_bytes());
    let file = repo
        .data
        .path()
        .join("store/artifacts/sha256")
        .join(&digest[..2])
        .join(&digest);
    assert_eq!(std::fs::read_to_string(&file).expect("blob file"), expected);

    let saved = repo.path().join("out.csv");
    let out = artifacts(
        &repo,
        &[
            "get",
            "orders_clean.csv",
            "-o",
            saved.to_str().expect("utf-8"),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&saved).expect("saved"), expected);

    let totals = artifacts(&repo, &["get", "totals.csv"]);
    assert_eq!(
        stdout(&totals),
        "country,orders,revenue\nFR,51,22945\nNL,50,22825\nUS,49,22371.5\n"
    );

    // Listing: one line per name, newest version.
    let list = artifacts_json(&repo, &["list", "--format", "json"]);
    let names: Vec<(&str, u64)> = list
        .as_array()
        .expect("list")
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap_or(""),
                s["versions"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(names, vec![("orders_clean.csv", 1), ("totals.csv", 1)]);
    let text = stdout(&artifacts(&repo, &["list"]));
    assert_contains(
        &text,
        &["NAME", "orders_clean.csv", "totals.csv", &digest[..12]],
    );

    // Lineage: the run, the plugin, and the exact inputs.
    let blob = repo.git(&["rev-parse", "HEAD:data/orders.csv"]);
    let shown = artifacts_json(&repo, &["show", "orders_clean.csv", "--format", "json"]);
    assert_eq!(shown["run_id"], run);
    assert_eq!(shown["run_status"], "success");
    assert_eq!(shown["workflow"], "etl");
    assert_eq!(shown["step"], "clean");
    assert_eq!(shown["plugin"], "etl");
    assert_eq!(shown["plugin_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(shown["version"], 1);
    assert_eq!(shown["revision"], repo.git(&["rev-parse", "HEAD"]));
    assert_eq!(
        shown["inputs"],
        serde_json::json!([{ "source": "head:data/orders.csv", "content_id": format!("git:{blob}") }])
    );
    let totals = artifacts_json(&repo, &["show", "totals.csv", "--format", "json"]);
    let customers = repo.git(&["rev-parse", "HEAD:data/customers.csv"]);
    assert_eq!(
        totals["inputs"],
        serde_json::json!([
            { "source": "artifact:orders_clean.csv", "content_id": format!("sha256:{digest}") },
            { "source": "head:data/customers.csv", "content_id": format!("git:{customers}") },
        ])
    );
    let text = stdout(&artifacts(&repo, &["show", "orders_clean.csv"]));
    assert_contains(
        &text,
        &[
            "orders_clean.csv v1",
            &format!("sha256      {digest}"),
            "workflow etl, step clean",
            "plugin      etl ",
            "head:data/orders.csv",
            &format!("git:{blob}"),
        ],
    );
}

#[test]
fn each_run_adds_a_version_that_selectors_pick() {
    let repo = etl_repo();
    let wf = workflow(&repo, "etl", ETL);
    let (code, first) = repo.run_json(&wf, &["--event", "manual"]);
    assert_eq!(code, 0, "{first:#}");
    repo.write("data/orders.csv", orders_csv("130"));
    repo.commit_all("a price changed");
    let (code, second) = repo.run_json(&wf, &["--event", "manual"]);
    assert_eq!(code, 0, "{second:#}");

    let versions = artifacts_json(
        &repo,
        &["list", "--name", "orders_clean.csv", "--format", "json"],
    );
    let versions = versions.as_array().expect("versions");
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["version"], 2);
    assert_eq!(versions[0]["run_id"], second["run"]);
    assert_eq!(versions[1]["run_id"], first["run"]);

    let old = expected_clean(&orders_csv("120"));
    let new = expected_clean(&orders_csv("130"));
    let get = |spec: &str| stdout(&artifacts(&repo, &["get", spec]));
    assert_eq!(get("orders_clean.csv"), new);
    assert_eq!(get("orders_clean.csv@v1"), old);
    assert_eq!(get(&format!("orders_clean.csv@{}", first["run"])), old);
    assert_eq!(
        get(&format!(
            "orders_clean.csv@{}",
            &sha256(new.as_bytes())[..10]
        )),
        new
    );

    let out = artifacts(&repo, &["get", "orders_clean.csv@v7"]);
    assert_eq!(out.status.code(), Some(2));
    assert_contains(&stderr(&out), &["`orders_clean.csv` has no version 7"]);
    let out = artifacts(&repo, &["show", "orders_clen.csv"]);
    assert_contains(
        &stderr(&out),
        &["no artifact is called `orders_clen.csv`; `andon artifacts list` shows them"],
    );
}

#[test]
fn a_later_run_reads_the_newest_artifact_of_a_run_that_succeeded() {
    let repo = etl_repo();
    let (code, json) = repo.run_json(&workflow(&repo, "etl", ETL), &["--event", "manual"]);
    assert_eq!(code, 0, "{json:#}");
    let good = json["actions"][0]["sha256"]
        .as_str()
        .expect("sha")
        .to_string();
    // A run that stores a new version and then fails: its output is kept
    // but not read downstream.
    let failing = workflow(
        &repo,
        "failing",
        r#"
name: failing
on: [manual]
steps:
  - id: clean
    uses: etl
    with:
      inputs: { orders: data/orders.csv }
      steps: [{ filter: "id == 1" }]
      output: orders_clean.csv
  - id: stop
    uses: etl
    with:
      inputs: { orders: data/orders.csv }
      steps: [{ select: nope }]
      output: never
"#,
    );
    let (code, json) = repo.run_json(&failing, &["--event", "manual"]);
    assert_eq!(code, 1, "{json:#}");
    let reader = workflow(
        &repo,
        "reader",
        r#"
name: reader
on: [manual]
steps:
  - id: count
    uses: etl
    with:
      inputs: { orders: artifact:orders_clean.csv }
      steps:
        - group_by: [status]
          aggregate: { n: count() }
      output: counts.csv
"#,
    );
    let (code, json) = repo.run_json(&reader, &["--event", "manual"]);
    assert_eq!(code, 0, "{json:#}");
    let shown = artifacts_json(&repo, &["show", "counts.csv", "--format", "json"]);
    assert_eq!(
        shown["inputs"][0]["content_id"],
        format!("sha256:{good}"),
        "{shown:#}"
    );
    assert_eq!(
        stdout(&artifacts(&repo, &["get", "counts.csv"])),
        "status,n\npaid,101\nshipped,99\n"
    );
    // The failed run's version is listed, marked as such.
    let versions = artifacts_json(
        &repo,
        &["list", "--name", "orders_clean.csv", "--format", "json"],
    );
    assert_eq!(versions[0]["run_status"], "error");
}

fn step_error(repo: &TestRepo, with: &str) -> String {
    let wf = workflow(
        repo,
        "bad",
        &format!("name: bad\non: [manual]\nsteps:\n  - id: etl\n    uses: etl\n    with:\n{with}"),
    );
    let (code, json) = repo.run_json(&wf, &["--event", "manual"]);
    assert_eq!(code, 1, "{json:#}");
    json["steps"][0]["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error: {json:#}"))
        .to_string()
}

#[test]
fn mistakes_name_the_step_and_key_with_a_hint() {
    let repo = etl_repo();
    let error = step_error(
        &repo,
        "      inputs: { orders: data/orders.csv }\n      steps:\n        - select: [id, amount, status]\n        - filter: amount > and status\n      output: x\n",
    );
    assert_contains(
        &error,
        &[
            "with.steps[1].filter (column 10): expected a value after `>`, found `and`",
            "    amount > and status\n             ^",
        ],
    );
    let error = step_error(
        &repo,
        "      inputs: { orders: data/orders.csv }\n      steps:\n        - select: [id]\n        - filter: amount > 1\n      output: x\n",
    );
    assert_contains(
        &error,
        &["with.steps[1].filter (column 1): no column `amount`; the columns here are: id"],
    );
    let error = step_error(
        &repo,
        "      inputs: { orders: data/orders.csv }\n      steps:\n        - fliter: amount > 1\n      output: x\n",
    );
    assert_contains(
        &error,
        &["with.steps[0]: unknown key `fliter`; did you mean `filter`?"],
    );
    let error = step_error(
        &repo,
        "      inputs: { orders: data/orders.csv }\n      steps:\n        - select: [id, amout]\n      output: x\n",
    );
    assert_contains(&error, &["no column `amout` (did you mean `amount`?)"]);
    let error = step_error(
        &repo,
        "      inputs: { orders: data/missing.csv }\n      output: x\n",
    );
    assert_contains(
        &error,
        &["cannot read input `orders`", "head:data/missing.csv"],
    );
}

#[test]
fn data_diff_comments_on_a_changed_dataset() {
    let repo = TestRepo::new();
    repo.write(
        "data/orders.csv",
        "id,amount,status\n1,10,new\n2,20,paid\n3,30,paid\n4,40,new\n",
    );
    repo.write("README.md", "orders\n");
    repo.commit_all("base");
    repo.write(
        "data/orders.csv",
        "id,amount,status,note\n1,10,new,\n2,25,shipped,x\n3,30,paid,\n5,50,new,y\n",
    );
    repo.write("README.md", "orders!\n");
    repo.commit_all("head");
    let wf = workflow(
        &repo,
        "diff",
        r#"
name: diff
on: [pull_request]
steps:
  - id: diff
    uses: data-diff
    with:
      datasets: ["data/*.csv"]
      key: id
"#,
    );
    let (code, json) = repo.run_json(&wf, &[]);
    assert_eq!(code, 0, "{json:#}");
    let comments: Vec<&str> = json["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter(|a| a["kind"] == "comment")
        .filter_map(|a| a["body"].as_str())
        .collect();
    assert_eq!(comments.len(), 1, "{json:#}");
    assert_contains(
        comments[0],
        &[
            "#### `data/orders.csv` (modified)",
            "| rows | 4 | 4 | 0 |",
            "| columns | 3 | 4 | +1 |",
            "- added: `note` (text)",
            "**Rows** by `id`: 1 added, 1 removed, 1 changed, 2 unchanged",
            "| `amount` | 1 |\n| `status` | 1 |",
            "- added: `5`\n- removed: `4`\n- changed: `2` (amount, status)",
            "| `amount` | int | 0 | 4 | 10 | 40 → 50 | 25 → 28.75 |",
        ],
    );
    assert!(!comments[0].contains("README"), "{}", comments[0]);
    let diff = &json["steps"][0]["outputs"]["diff"][0];
    assert_eq!(diff["path"], "data/orders.csv");
    assert_eq!(diff["diff"]["row_diff"]["changed"], 1);

    // A pull request that does not touch a dataset gets no comment.
    repo.write("README.md", "orders?\n");
    repo.commit_all("docs");
    let (code, json) = repo.run_json(&wf, &[]);
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(json["actions"], serde_json::json!([]), "{json:#}");
}

/// `workflows/nightly-etl.yml` run by hand as its schedule would, on a
/// repository with the data and suite it expects.
fn run_nightly() -> (TestRepo, i32, Value) {
    let repo = etl_repo();
    repo.write(
        "data/customers.csv",
        "customer_id,name,country\n10,Ada,FR\n11,Grace,US\n",
    );
    repo.write(
        "checks/orders_clean.yml",
        "checks:\n  - row_count: { min: 1 }\n  - unique: { column: id }\n  - not_null: { column: amount }\n  - accepted_values: { column: status, values: [paid, shipped] }\n  - range: { column: amount, min: 0 }\n",
    );
    repo.commit_all("suite");
    let wf = project_root().join("workflows/nightly-etl.yml");
    let out = repo.andon(&["validate", wf.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let (code, json) = repo.run_json(&wf, &["--event", "schedule"]);
    (repo, code, json)
}

fn step_status<'a>(json: &'a Value, id: &str) -> &'a str {
    json["steps"]
        .as_array()
        .and_then(|steps| steps.iter().find(|s| s["id"] == id))
        .and_then(|s| s["status"].as_str())
        .unwrap_or("missing")
}

#[test]
fn the_nightly_etl_example_runs_its_pipeline_on_a_schedule_and_checks_its_output() {
    let (repo, code, json) = run_nightly();
    assert_eq!(json["event"]["kind"], "schedule", "{json:#}");
    assert_eq!(step_status(&json, "orders"), "success", "{json:#}");
    assert_eq!(step_status(&json, "revenue"), "success", "{json:#}");
    let revenue = stdout(&artifacts(&repo, &["get", "revenue_by_country.csv"]));
    assert_eq!(
        revenue,
        "country,orders,revenue,average_order\nFR,51,22945,449.9019607843137\nunknown,100,45200,452\nUS,49,22371.5,456.5612244897959\n"
    );
    let shown = artifacts_json(
        &repo,
        &["show", "revenue_by_country.csv", "--format", "json"],
    );
    assert_eq!(shown["workflow"], "nightly-etl");
    assert_eq!(shown["inputs"][0]["source"], "artifact:orders_clean.csv");

    // Then its last step checks the cleaned orders it just stored.
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(step_status(&json, "check-orders"), "success", "{json:#}");
    let check = json["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .find(|a| a["kind"] == "check-run")
        .unwrap_or_else(|| panic!("no check run: {json:#}"));
    assert_eq!(check["conclusion"], "success", "{check:#}");
}
