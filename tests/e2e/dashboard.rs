//! The dashboard end to end (issue 7): the real `andon serve` makes real
//! runs (a pull request running the review and data-quality workflows, a
//! push registering a model, a promote command assigning it a stage, a
//! local repository's schedule), then every page is read over HTTP and its
//! content checked: filters, run detail, escaping, the data chart, models,
//! schedules, inbox and outbox, and the access rule.

use std::time::{Duration, Instant};

use andon_testkit::client::{Response, send_blocking};
use andon_testkit::github::{FakeGitHub, Permission};
use andon_testkit::webhook::Payload;

use crate::server::{REPO, Server, comment, github_with_pull, pull_request, push};
use crate::support::{TestRepo, assert_contains, project_root};

const WAIT: Duration = Duration::from_secs(90);
const HOSTILE: &str = "<script>alert(1)</script>";

const SUITE: &str = "dataset: data/orders.csv\nchecks:\n  - row_count: { min: 1 }\n  - not_null: { column: id }\n  - unique: { column: id }\n  - range: { column: amount, min: 0, max: 100 }\n";

fn get(url: &str, headers: &[(&str, &str)]) -> Response {
    send_blocking("GET", url, headers, Vec::new()).expect("GET")
}

/// A page that must answer 200; its HTML.
fn page(server: &Server, path: &str) -> String {
    let response = get(&format!("{}{path}", server.url), &[]);
    assert_eq!(response.status, 200, "{path}: {}", response.text());
    assert_eq!(
        response.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let html = response.text();
    assert!(!html.contains("<script"), "{path} has a script:\n{html}");
    html
}

/// The run ids a runs table links to, in order.
fn run_ids(html: &str) -> Vec<u64> {
    let table = html
        .split("<table id=\"runs\">")
        .nth(1)
        .map(|t| t.split("</table>").next().unwrap_or(""))
        .unwrap_or("");
    table
        .split("<a href=\"/runs/")
        .skip(1)
        .filter_map(|s| s.split('"').next()?.parse().ok())
        .collect()
}

/// `main` with the review, data-quality and model-release workflows, a
/// dataset and its suite, a model, a registry policy; a second `main`
/// commit changing the model (for the push); a pull request branch from it
/// changing code and data twice. `(origin, c1, c2, head1, head2)`.
pub fn origin() -> (TestRepo, String, String, String, String) {
    let origin = TestRepo::new();
    let workflow = |name: &str| {
        std::fs::read(project_root().join("workflows").join(name)).expect("read workflow")
    };
    origin.write(".andon/workflows/review.yml", workflow("review.yml"));
    origin.write(
        ".andon/workflows/data-quality.yml",
        workflow("data-quality.yml"),
    );
    origin.write(
        ".andon/workflows/model-release.yml",
        workflow("model-release.yml"),
    );
    origin.write(
        ".andon/registry.yml",
        "promote:\n  stages:\n    staging: {}\n",
    );
    origin.write(
        "artifacts.yaml",
        "churn:\n  type: model\n  path: models/churn.pkl\n",
    );
    origin.write("models/churn.pkl", "weights v1\n");
    origin.write("metrics/churn.json", "{\"auc\": 0.8}\n");
    origin.write("checks/orders.yml", SUITE);
    origin.write("data/orders.csv", "id,amount\n1,10\n2,20\n");
    origin.write("src/lib.rs", "pub fn one() -> u32 { 1 }\n");
    let c1 = origin.commit_all("base");
    origin.write("models/churn.pkl", "weights v2\n");
    origin.write("metrics/churn.json", "{\"auc\": 0.86}\n");
    let c2 = origin.commit_all("model v2");
    origin.git(&["checkout", "-q", "-b", "feature"]);
    origin.write(
        "src/lib.rs",
        "pub fn one() -> u32 { 1 }\npub fn two() -> u32 { 2 }\n",
    );
    origin.write("data/orders.csv", "id,amount\n1,10\n2,20\n3,30\n");
    let head1 = origin.commit_all("more orders");
    origin.write(
        "data/orders.csv",
        "id,amount\n1,10\n2,20\n3,30\n3,-5\n5,50\n",
    );
    let head2 = origin.commit_all("bad orders");
    origin.git(&["checkout", "-q", "main"]);
    (origin, c1, c2, head1, head2)
}

/// A local repository with a nightly schedule, for `--schedule-repo`.
fn scheduled_repo() -> TestRepo {
    let repo = TestRepo::new();
    repo.write(
        ".andon/workflows/nightly.yml",
        "name: nightly-report\non:\n  schedule: [{ cron: \"30 4 * * *\", timezone: Europe/Paris }]\nsteps:\n  - id: size\n    uses: size\n",
    );
    repo.commit_all("nightly");
    repo
}

fn post_and_wait(server: &Server, payload: &Payload, id: &str) {
    let (status, body) = server.post(&payload.delivery(id));
    assert_eq!(status, 202, "{body}");
    assert!(server.wait_idle(WAIT), "{}", server.log());
}

#[test]
fn the_dashboard_shows_runs_data_schedules_models_and_the_queues() {
    let (origin, c1, c2, head1, head2) = origin();
    let github: FakeGitHub = github_with_pull(7, &c2, &head1);
    github.set_git_dir(REPO, origin.path());
    github.set_permission(REPO, "maintainer", Permission::Write);
    let local = scheduled_repo();
    let data = tempfile::tempdir().expect("tempdir");
    let local_path = local.path().to_str().expect("utf-8").to_string();
    let server = Server::start(
        data.path(),
        &github.url(),
        &[("ANDON_SCHEDULE_REPOS", local_path.as_str())],
    );

    // A pull request (with a hostile title) runs review and data-quality,
    // twice; a push registers churn; a command promotes it to staging.
    let opened = pull_request("opened", &origin, 7, &c2, &head1)
        .set("/pull_request/title", serde_json::json!(HOSTILE));
    post_and_wait(&server, &opened, "dash-pr-1");
    let synchronized = pull_request("synchronize", &origin, 7, &c2, &head2)
        .set("/pull_request/title", serde_json::json!(HOSTILE));
    post_and_wait(&server, &synchronized, "dash-pr-2");
    post_and_wait(&server, &push(&origin, &c1, &c2), "dash-push-1");
    assert!(
        github.wait_for(|gh| !gh.refs(REPO).is_empty(), WAIT),
        "no tag:\n{}",
        server.log()
    );
    let body = "/andon promote churn v0.0.1 staging";
    let id = github.add_comment(REPO, 7, "maintainer", body);
    let promote = comment(&origin, 7, "maintainer", body).set("/comment/id", serde_json::json!(id));
    post_and_wait(&server, &promote, "dash-promote-1");

    // The runs list: every run, newest first, with the filter form.
    let runs = page(&server, "/");
    assert_contains(
        &runs,
        &[
            "<h1>Runs</h1>",
            "<form id=\"filters\"",
            "<select name=\"repository\"",
            "<select name=\"workflow\"",
            "<select name=\"status\"",
            "<button type=\"submit\"",
            "<option value=\"review\">review</option>",
            "<option value=\"data-quality\">data-quality</option>",
            "<option value=\"acme/widgets\">acme/widgets</option>",
            "href=\"https://github.com/acme/widgets/pull/7\"",
            "pull_request",
        ],
    );
    let all = run_ids(&runs);
    assert!(all.len() >= 5, "{all:?}\n{runs}");
    assert!(all.windows(2).all(|w| w[0] > w[1]), "{all:?}");

    // Filters narrow the list, and keep their choice selected.
    let data_runs = page(&server, "/?workflow=data-quality&repository=acme%2Fwidgets");
    let data_ids = run_ids(&data_runs);
    assert_eq!(data_ids.len(), 2, "{data_runs}");
    assert!(data_ids.iter().all(|id| all.contains(id)));
    assert_contains(
        &data_runs,
        &["<option value=\"data-quality\" selected>data-quality</option>"],
    );
    let failed = run_ids(&page(&server, "/?workflow=data-quality&status=failure"));
    assert_eq!(failed, vec![data_ids[0]], "the second check fails");
    assert!(run_ids(&page(&server, "/?repository=nobody%2Fnone")).is_empty());
    // Paging: one older than the newest data run is the other.
    let older = run_ids(&page(
        &server,
        &format!("/?workflow=data-quality&before={}", data_ids[0]),
    ));
    assert_eq!(older, vec![data_ids[1]]);
    // An odd query string is a 400 page, not a crash.
    let odd = get(&format!("{}/?status=weird&before=x", server.url), &[]);
    assert_eq!(odd.status, 400);

    // The run detail: event, steps, log, actions and their outcomes.
    let detail = page(&server, &format!("/runs/{}", data_ids[0]));
    assert_contains(
        &detail,
        &[
            &format!("<h1>Run #{}</h1>", data_ids[0]),
            "data-quality",
            "Pull request",
            &head2,
            "octocat",
            "dash-pr-2",
            "class=\"timeline\"",
            "id=\"step-orders\"",
            "data-check",
            "Fuel",
            "Memory",
            "<pre class=\"log\">",
            "check-run",
            "Outcomes on GitHub",
            "check-run-finish",
            "done",
        ],
    );
    // The hostile title is shown, escaped, never raw.
    assert_contains(&detail, &["&lt;script&gt;alert(1)&lt;/script&gt;"]);
    assert!(!detail.contains(HOSTILE));

    // Unknown and malformed run ids.
    assert_eq!(get(&format!("{}/runs/999999", server.url), &[]).status, 404);
    assert_eq!(get(&format!("{}/runs/abc", server.url), &[]).status, 400);
    assert_eq!(
        get(&format!("{}/runs/18446744073709551616", server.url), &[]).status,
        400
    );

    // Data: the dataset's history with a chart per metric.
    let datasets = page(&server, "/data");
    assert_contains(
        &datasets,
        &["<h1>Data checks</h1>", "data/orders.csv", "acme/widgets"],
    );
    let history = page(
        &server,
        "/data?dataset=data%2Forders.csv&repository=acme%2Fwidgets",
    );
    assert_contains(
        &history,
        &[
            "<svg class=\"chart\"",
            "<figcaption>rows</figcaption>",
            "<figcaption>failed</figcaption>",
            "failed %",
            &format!("<a href=\"/runs/{}\">", data_ids[0]),
            "<title>run #",
            "run start (UTC)",
        ],
    );
    assert_eq!(
        get(&format!("{}/data?dataset=nope.csv", server.url), &[]).status,
        404
    );

    // Schedules: the local repository's, with its next fire.
    let schedules = page(&server, "/schedules");
    assert_contains(
        &schedules,
        &[
            "<h1>Schedules</h1>",
            "nightly-report",
            "30 4 * * *",
            "Europe/Paris",
            "UTC",
            "skip",
        ],
    );

    // Models: churn v0.0.1 in staging, with its lineage.
    let models = page(&server, "/models");
    assert_contains(
        &models,
        &[
            "<h1>Models</h1>",
            "acme/widgets",
            "churn",
            "<th>staging</th>",
            "v0.0.1",
            "model-release",
            "models/churn.pkl",
        ],
    );

    // Inbox and outbox: the deliveries and the effects, with run links.
    let queues = page(&server, "/inbox");
    assert_contains(
        &queues,
        &[
            "<h1>Inbox and outbox</h1>",
            "<strong id=\"inbox-depth\">0</strong>",
            "dash-pr-1",
            "dash-promote-1",
            "pull_request",
            "check-run-finish",
            &format!("<a href=\"/runs/{}\">", data_ids[0]),
        ],
    );
    assert_eq!(page(&server, "/outbox"), queues);
    let redirect = get(&format!("{}/runs", server.url), &[]);
    assert_eq!(redirect.status, 308);

    // Auto-refresh, as the runs form and the inbox links ask for it.
    let live = page(&server, "/inbox?refresh=30");
    assert!(live.contains("<meta http-equiv=\"refresh\" content=\"30\">"));
    let runs_live = page(&server, "/?status=success&refresh=10");
    assert!(runs_live.contains("<meta http-equiv=\"refresh\" content=\"10\">"));
    assert!(!queues.contains("http-equiv"));
    let too_fast = get(&format!("{}/?refresh=1", server.url), &[]);
    assert_eq!(too_fast.status, 400);
    assert!(
        too_fast.text().contains("from 5 to 3600"),
        "{}",
        too_fast.text()
    );
}

#[test]
fn beyond_loopback_the_dashboard_asks_for_the_token() {
    let github = FakeGitHub::start();
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(
        data.path(),
        &github.url(),
        &[
            ("ANDON_LISTEN", "0.0.0.0:0"),
            ("ANDON_DASHBOARD_TOKEN", "dash-s3cret"),
        ],
    );
    let url = server.url.replace("0.0.0.0", "127.0.0.1");
    for path in ["/", "/runs/1", "/schedules", "/data", "/models", "/inbox"] {
        let refused = get(&format!("{url}{path}"), &[]);
        assert_eq!(refused.status, 401, "{path}");
        assert_contains(
            refused.header("www-authenticate").unwrap_or(""),
            &["Basic realm=\"andon\""],
        );
        let wrong = get(&format!("{url}{path}"), &[("authorization", "Bearer nope")]);
        assert_eq!(wrong.status, 401, "{path}");
    }
    let bearer = get(
        &format!("{url}/"),
        &[("authorization", "Bearer dash-s3cret")],
    );
    assert_eq!(bearer.status, 200);
    assert_contains(&bearer.text(), &["<h1>Runs</h1>"]);
    // "anyone:dash-s3cret", as a browser sends it.
    let basic = get(
        &format!("{url}/schedules"),
        &[("authorization", "Basic YW55b25lOmRhc2gtczNjcmV0")],
    );
    assert_eq!(basic.status, 200);
    // The webhook is not behind the dashboard's rule.
    assert_eq!(get(&format!("{url}/healthz"), &[]).status, 200);
}

#[test]
fn beyond_loopback_without_a_token_the_dashboard_is_refused() {
    let github = FakeGitHub::start();
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(data.path(), &github.url(), &[("ANDON_LISTEN", "0.0.0.0:0")]);
    let url = server.url.replace("0.0.0.0", "127.0.0.1");
    for path in ["/", "/runs/1", "/data", "/inbox"] {
        let refused = get(&format!("{url}{path}"), &[]);
        assert_eq!(refused.status, 403, "{path}");
        assert_contains(&refused.text(), &["ANDON_DASHBOARD_TOKEN"]);
    }
}

/// A run under way is listed above the recorded runs with the step it is
/// on, counted by `andon_runs_in_progress`, and leaves the list once it is
/// recorded: here a step that spins until its 3 s timeout.
#[test]
fn a_run_under_way_is_shown_with_its_step_until_it_is_recorded() {
    let origin = TestRepo::new();
    origin.write("plugins/testbed.wasm", andon_bundle::testing::TESTBED);
    origin.write(
        ".andon/workflows/slow.yml",
        format!(
            "name: slow\non: [pull_request]\nsteps:\n  - id: measure\n    uses: size\n  - id: spin\n    uses: ./plugins/testbed.wasm\n    sha256: {}\n    timeout: 3s\n    with: {{ mode: loop }}\n",
            crate::cli::testbed_sha()
        ),
    );
    origin.write("src/lib.rs", "pub fn one() -> u32 { 1 }\n");
    let base = origin.commit_all("base");
    origin.git(&["checkout", "-q", "-b", "feature"]);
    origin.write("src/lib.rs", "pub fn one() -> u32 { 2 }\n");
    let head = origin.commit_all("change");
    origin.git(&["checkout", "-q", "main"]);
    let github = github_with_pull(8, &base, &head);
    github.set_git_dir(REPO, origin.path());
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(data.path(), &github.url(), &[]);

    let opened = pull_request("opened", &origin, 8, &base, &head);
    let (status, body) = server.post(&opened.delivery("slow-1"));
    assert_eq!(status, 202, "{body}");
    let deadline = Instant::now() + WAIT;
    let shown = loop {
        let html = page(&server, "/");
        if html.contains("<strong>spin</strong>") {
            break html;
        }
        assert!(
            Instant::now() < deadline,
            "never shown under way:\n{html}\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_contains(
        &shown,
        &[
            "<h2>In progress (1)</h2>",
            "<span class=\"badge running\">running</span>",
            "<td>slow</td>",
            "2 of 2: <strong>spin</strong>",
            "href=\"https://github.com/acme/widgets/pull/8\"",
        ],
    );
    let metrics = get(&format!("{}/metrics", server.url), &[]).text();
    assert!(metrics.contains("andon_runs_in_progress 1"), "{metrics}");

    assert!(server.wait_idle(WAIT), "{}", server.log());
    let after = page(&server, "/");
    assert!(!after.contains("In progress"), "{after}");
    let recorded = run_ids(&after);
    assert_eq!(recorded.len(), 1, "{after}");
    let detail = page(&server, &format!("/runs/{}", recorded[0]));
    assert_contains(&detail, &["spin", "ran past its time limit of 3 s"]);
    let metrics = get(&format!("{}/metrics", server.url), &[]).text();
    assert!(metrics.contains("andon_runs_in_progress 0"), "{metrics}");
}
