//! `rally place` run as a user runs it: the bundled fixtures, a hand-checked small case,
//! malformed input.

use serde_json::Value;

use crate::support::{rally, stderr, stdout, temp_dir};

const FLEETS: &str = "fixtures/placement/fleets.json";

fn place(queue: &str, requests: &str, format: &str) -> std::process::Output {
    rally(
        &[
            "place",
            "--fleets",
            FLEETS,
            "--queue",
            queue,
            "--requests",
            requests,
            "--format",
            format,
        ],
        None,
    )
}

#[test]
fn every_fixture_queue_places_its_requests() {
    for name in [
        "latency_first",
        "cost_first",
        "destination_first",
        "location_override",
        "rally_options",
    ] {
        let queue_path = format!("fixtures/placement/queue_{name}.json");
        let output = place(
            &queue_path,
            &format!("fixtures/placement/requests_{name}.jsonl"),
            "json",
        );
        assert!(output.status.success(), "{name}: {}", stderr(&output));
        let queue: Value =
            serde_json::from_str(&std::fs::read_to_string(&queue_path).unwrap()).unwrap();
        let timeout = queue["TimeoutInSeconds"].as_f64().unwrap();
        let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
        let placements = report["Placements"].as_array().unwrap();
        assert!(!placements.is_empty(), "{name}");
        let fulfilled = placements
            .iter()
            .filter(|p| p["Status"] == "FULFILLED")
            .count();
        assert!(fulfilled > 0, "{name}: nothing placed");
        for p in placements {
            let keys: Vec<&str> = p.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(
                keys,
                [
                    "PlacementId",
                    "Status",
                    "StartTime",
                    "EndTime",
                    "FleetId",
                    "Location",
                    "GameSessionId",
                    "AveragePlayerLatency",
                    "HourlyCost",
                    "Reason"
                ]
            );
            // Each ends when its status says: placed in its window, timed out exactly at the
            // queue's timeout, failed at once; every one not placed says why.
            let (start, end) = (p["StartTime"].as_f64().unwrap(), p["EndTime"].as_f64());
            let end = end.expect("no request is left pending at the end of a run");
            let ends_right = match p["Status"].as_str().unwrap() {
                "FULFILLED" => start <= end && end < start + timeout,
                "TIMED_OUT" => (end - (start + timeout)).abs() < 1e-9,
                "FAILED" => end == start,
                other => panic!("{name}: {other} at the end of a run"),
            };
            assert!(ends_right, "{name}: {p}");
            assert_eq!(
                p["Reason"].is_string(),
                p["Status"] != "FULFILLED",
                "{name}: {p}"
            );
        }
        // The per-location summary adds up to the fulfilled placements and stays in capacity.
        let sessions: u64 = report["Locations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                assert!(l["GameSessions"].as_u64() <= l["Capacity"].as_u64());
                l["GameSessions"].as_u64().unwrap()
            })
            .sum();
        assert_eq!(sessions as usize, fulfilled, "{name}");
    }
}

#[test]
fn the_rally_options_queue_fails_at_once_what_no_location_can_ever_host() {
    let output = place(
        "fixtures/placement/queue_rally_options.json",
        "fixtures/placement/requests_rally_options.jsonl",
        "text",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let failed: Vec<&str> = text.lines().filter(|l| l.contains(" FAILED ")).collect();
    assert_eq!(
        failed,
        [
            "rally-options-0000 FAILED 0.015–0.015 s: no fleet location can ever host it: \
             16 over the 200 ms latency cap (nearest: player `r0p6` at 209 ms to `spot-europe` in `eu-west-1`)",
            "rally-options-0010 FAILED 4.393–4.393 s: no fleet location can ever host it: \
             16 over the 200 ms latency cap (nearest: player `r10p1` at 209 ms to `spot-europe` in `eu-west-1`)",
        ]
    );
    assert!(text.ends_with("2 FAILED, 98 FULFILLED\n"), "{text}");
}

#[test]
fn the_latency_first_trace_runs_out_of_capacity_and_times_out_the_rest() {
    let output = place(
        "fixtures/placement/queue_latency_first.json",
        "fixtures/placement/requests_latency_first.jsonl",
        "text",
    );
    assert!(output.status.success());
    let text = stdout(&output);
    // 320 sessions can take placements (the ACTIVATING location and the non-viable Spot
    // location cannot), and no session ends during a run.
    assert!(text.ends_with("320 FULFILLED, 80 TIMED_OUT\n"), "{text}");
}

#[test]
fn a_small_case_goes_where_the_rules_say() {
    let dir = temp_dir("place-small");
    let fleets = dir.join("fleets.json");
    std::fs::write(
        &fleets,
        r#"[{"FleetId":"spot","FleetType":"SPOT","InstanceType":"c5.large","Locations":[
              {"Location":"us-east-1","HourlyCost":0.02,"Instances":1,"GameSessionsPerInstance":1,"MaxPlayers":10,"Status":"ACTIVE","SpotViable":true},
              {"Location":"eu-west-1","HourlyCost":0.03,"Instances":1,"GameSessionsPerInstance":1,"MaxPlayers":10}]},
            {"FleetId":"demand","FleetType":"ON_DEMAND","InstanceType":"c5.large","Locations":[
              {"Location":"us-east-1","HourlyCost":0.1,"Instances":1,"GameSessionsPerInstance":1,"MaxPlayers":10}]}]"#,
    )
    .unwrap();
    let queue = dir.join("queue.json");
    std::fs::write(
        &queue,
        r#"{"Name":"q","TimeoutInSeconds":20,
            "PlayerLatencyPolicies":[{"MaximumIndividualPlayerLatencyMilliseconds":100}],
            "Destinations":[{"DestinationArn":"arn:aws:gamelift:us-east-1::fleet/demand"},
                            {"DestinationArn":"arn:aws:gamelift:us-east-1::fleet/spot"}]}"#,
    )
    .unwrap();
    let requests = dir.join("requests.jsonl");
    let request = |id: &str, start: u32, east: u32, west: u32| {
        format!(
            r#"{{"PlacementId":"{id}","GameSessionQueueName":"q","MaximumPlayerSessionCount":10,"StartTime":{start},"PlayerLatencies":[{{"PlayerId":"a","RegionIdentifier":"us-east-1","LatencyInMilliseconds":{east}}},{{"PlayerId":"a","RegionIdentifier":"eu-west-1","LatencyInMilliseconds":{west}}}]}}"#
        )
    };
    // p1: nearest us-east-1, cheapest there spot. p2: us-east-1 again, spot is full: demand.
    // p3: us-east-1 full, eu-west-1 at 90 ms is under the cap. p4: nothing left: times out.
    // p5: over the only cap everywhere; as GameLift does, it waits for the timeout too.
    let lines = [
        request("p1", 0, 40, 90),
        request("p2", 1, 40, 90),
        request("p3", 2, 40, 90),
        request("p4", 3, 40, 90),
        request("p5", 4, 150, 150),
    ];
    std::fs::write(&requests, lines.join("\n")).unwrap();
    let run = |format: &str| {
        let output = rally(
            &[
                "place",
                "--fleets",
                fleets.to_str().unwrap(),
                "--queue",
                queue.to_str().unwrap(),
                "--requests",
                requests.to_str().unwrap(),
                "--format",
                format,
            ],
            None,
        );
        assert!(output.status.success(), "{}", stderr(&output));
        output
    };
    let text = stdout(&run("text"));
    let placements: Vec<&str> = text.lines().take_while(|l| !l.is_empty()).collect();
    assert_eq!(
        placements,
        [
            "p1 FULFILLED 0–0 s on spot in us-east-1, 40.0 ms average",
            "p2 FULFILLED 1–1 s on demand in us-east-1, 40.0 ms average",
            "p3 FULFILLED 2–2 s on spot in eu-west-1, 90.0 ms average",
            "p4 TIMED_OUT 3–23 s: no fleet location could host it before the timeout: \
             3 full (e.g. `demand` in `us-east-1`)",
            "p5 TIMED_OUT 4–24 s: no fleet location could host it before the timeout: \
             3 over the 100 ms latency cap (nearest: player `a` at 150 ms to `demand` in `us-east-1`)",
        ]
    );
    let output = run("json");
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let outcome: Vec<(String, String, String)> = report["Placements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["Status"].as_str().unwrap().to_string(),
                p["FleetId"].as_str().unwrap_or("-").to_string(),
                p["Location"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    let expect = |s: &str, f: &str, l: &str| (s.to_string(), f.to_string(), l.to_string());
    assert_eq!(
        outcome,
        [
            expect("FULFILLED", "spot", "us-east-1"),
            expect("FULFILLED", "demand", "us-east-1"),
            expect("FULFILLED", "spot", "eu-west-1"),
            expect("TIMED_OUT", "-", "-"),
            expect("TIMED_OUT", "-", "-"),
        ]
    );
    let p5 = &report["Placements"][4];
    assert_eq!(
        (&p5["StartTime"], &p5["EndTime"]),
        (&4.0.into(), &24.0.into())
    );
    assert_eq!(
        p5["Reason"],
        "no fleet location could host it before the timeout: \
         3 over the 100 ms latency cap (nearest: player `a` at 150 ms to `demand` in `us-east-1`)"
    );
    assert_eq!(report["Placements"][0]["Reason"], Value::Null);
    assert_eq!(
        report["Placements"][0]["GameSessionId"],
        "arn:aws:gamelift:us-east-1::gamesession/spot/gsess-1"
    );
    assert_eq!(
        report["Placements"][2]["GameSessionId"],
        "arn:aws:gamelift:us-east-1::gamesession/spot/eu-west-1/gsess-3"
    );
    assert_eq!(report["Placements"][0]["AveragePlayerLatency"], 40.0);
}

#[test]
fn malformed_input_names_the_file_line_and_field_and_prints_nothing() {
    let dir = temp_dir("place-bad");
    let requests = dir.join("requests.jsonl");
    std::fs::write(
        &requests,
        "{\"PlacementId\":\"p1\",\"GameSessionQueueName\":\"latency-first\",\"MaximumPlayerSessionCount\":10}\n\
         {\"PlacementId\":\"p2\",\"GameSessionQueueName\":\"latency-first\",\"MaximumPlayerSessionCount\":10,\"PlayerLatencies\":[{\"PlayerId\":\"a\",\"RegionIdentifier\":\"us-east-1\"}]}\n",
    )
    .unwrap();
    let path = requests.to_str().unwrap();
    let output = place("fixtures/placement/queue_latency_first.json", path, "json");
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).is_empty());
    let message = stderr(&output);
    assert!(message.contains(path), "{message}");
    assert!(message.contains("line 2"), "{message}");
    assert!(message.contains("PlayerLatencies[0]"), "{message}");
    assert!(message.contains("LatencyInMilliseconds"), "{message}");

    // One player reporting one region twice: which latency was meant is not rally's guess.
    let twice = r#"{"PlacementId":"p2","GameSessionQueueName":"latency-first","MaximumPlayerSessionCount":10,"PlayerLatencies":[
        {"PlayerId":"a","RegionIdentifier":"us-east-1","LatencyInMilliseconds":20},
        {"PlayerId":"a","RegionIdentifier":"eu-west-1","LatencyInMilliseconds":80},
        {"PlayerId":"b","RegionIdentifier":"us-east-1","LatencyInMilliseconds":30},
        {"PlayerId":"a","RegionIdentifier":"us-east-1","LatencyInMilliseconds":90}]}"#
        .replace('\n', "");
    std::fs::write(
        &requests,
        format!(
            "{{\"PlacementId\":\"p1\",\"GameSessionQueueName\":\"latency-first\",\"MaximumPlayerSessionCount\":10}}\n{twice}\n"
        ),
    )
    .unwrap();
    let output = place("fixtures/placement/queue_latency_first.json", path, "text");
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).is_empty(), "nothing is kept");
    assert_eq!(
        stderr(&output).trim_end(),
        format!(
            "error: `{path}` line 2, `PlayerLatencies[3]`: player `a` reports region `us-east-1` \
             twice, here and at `PlayerLatencies[0]`"
        )
    );

    // A request for a queue that does not exist: the line and the field, too.
    std::fs::write(
        &requests,
        "{\"PlacementId\":\"p1\",\"GameSessionQueueName\":\"nope\",\"MaximumPlayerSessionCount\":10}\n",
    )
    .unwrap();
    let output = place("fixtures/placement/queue_latency_first.json", path, "text");
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("line 1, `GameSessionQueueName`: no queue `nope`"),
        "{message}"
    );

    // A queue naming a fleet that does not exist.
    let queue = dir.join("queue.json");
    std::fs::write(
        &queue,
        r#"{"Name":"q","Destinations":[{"DestinationArn":"arn:aws:gamelift:us-east-1::fleet/ghost"}]}"#,
    )
    .unwrap();
    let output = place(queue.to_str().unwrap(), path, "text");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("`Destinations[0].DestinationArn`: no fleet `ghost`"),
        "{}",
        stderr(&output)
    );
}
