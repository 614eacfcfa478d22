//! `StreamEvents`' stream: a task per subscriber reads the engine's published steps, keeps
//! the events the filter wants, converts them, and hands them over in chunks; the response
//! stream yields them one by one.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rally_engine::Event;
use tokio::sync::{broadcast, mpsc, watch};
use tokio_stream::Stream;
use tonic::Status;

use crate::convert::matchmaking::event;
use crate::proto::v1 as pb;
use crate::shared::{Events, Shared};

pub type EventStream = Pin<Box<dyn Stream<Item = Result<pb::Event, Status>> + Send>>;

/// Events converted and handed over at a time.
const CHUNK: usize = 64;

/// Chunks converted ahead of what tonic has sent.
const CHUNKS_AHEAD: usize = 64;

/// The events from now on that `filter` wants, until the server stops or the client goes.
/// A stream that falls too far behind ends with RESOURCE_EXHAUSTED rather than skip.
pub fn subscribe(
    shared: Arc<Shared>,
    filter: pb::StreamEventsRequest,
    stopping: watch::Receiver<bool>,
) -> EventStream {
    let events = shared.subscribe();
    let (sender, receiver) = mpsc::channel(CHUNKS_AHEAD);
    tokio::spawn(forward(shared, filter, events, stopping, sender));
    Box::pin(Flatten {
        receiver,
        ready: VecDeque::new(),
    })
}

type Chunk = Vec<Result<pb::Event, Status>>;

async fn forward(
    shared: Arc<Shared>,
    filter: pb::StreamEventsRequest,
    mut events: broadcast::Receiver<Events>,
    mut stopping: watch::Receiver<bool>,
    sender: mpsc::Sender<Chunk>,
) {
    loop {
        if *stopping.borrow() {
            return;
        }
        let received = tokio::select! {
            // It only ever turns true.
            _ = stopping.changed() => return,
            received = events.recv() => received,
        };
        let step = match received {
            Ok(step) => step,
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                let status = Status::resource_exhausted(format!(
                    "the stream fell {missed} engine steps behind"
                ));
                let _ = sender.send(vec![Err(status)]).await;
                return;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let wanted: Vec<&Event> = step.iter().filter(|e| wanted(&filter, e)).collect();
        // In chunks, so that the first events go out while the rest are converted.
        for events in wanted.chunks(CHUNK) {
            let chunk: Chunk = events.iter().map(|e| Ok(event(&shared, e))).collect();
            if sender.send(chunk).await.is_err() {
                return;
            }
        }
    }
}

fn wanted(filter: &pb::StreamEventsRequest, event: &Event) -> bool {
    let configuration = filter.configuration_name.is_empty()
        || event.configuration_name() == Some(filter.configuration_name.as_str());
    let tickets = filter.ticket_ids.is_empty()
        || match event {
            Event::Matchmaking(e) => filter.ticket_ids.iter().any(|id| e.names_ticket(id)),
            Event::Placement(_) => false,
        };
    configuration && tickets
}

/// The chunks' events one at a time, as tonic sends them.
struct Flatten {
    receiver: mpsc::Receiver<Chunk>,
    ready: VecDeque<Result<pb::Event, Status>>,
}

impl Stream for Flatten {
    type Item = Result<pb::Event, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Poll::Ready(Some(item));
            }
            match self.receiver.poll_recv(cx) {
                Poll::Ready(Some(chunk)) => self.ready.extend(chunk),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ServerConfig;
    use rally_engine::StartMatchmaking;
    use rally_matchmaker::ticket::NewPlayer;
    use rally_rules::model::AttributeValue;

    /// Events of the embedded `duel` configuration: each of `count` tickets for the same
    /// player cancels the one before it, one MatchmakingCancelled each.
    fn cancellations(count: usize) -> (Arc<Shared>, Vec<Event>) {
        let mut engine = ServerConfig::embedded().build().unwrap();
        let mut player = NewPlayer::new("p-same");
        player
            .attributes
            .insert("skill".into(), AttributeValue::Number(1500.0));
        player
            .attributes
            .insert("gamesPlayed".into(), AttributeValue::Number(20.0));
        player.latencies.insert("us-east-1".into(), 40);
        for i in 0..=count {
            let request = StartMatchmaking {
                ticket_id: Some(format!("t{i}")),
                configuration_name: "duel".into(),
                players: vec![player.clone()],
            };
            engine.start_matchmaking(0.0, request).unwrap();
        }
        let events = engine.take_events();
        assert_eq!(events.len(), count);
        (Shared::new(engine), events)
    }

    fn everything() -> pb::StreamEventsRequest {
        pb::StreamEventsRequest {
            configuration_name: String::new(),
            ticket_ids: vec![],
        }
    }

    async fn forwarded(
        filter: pb::StreamEventsRequest,
        steps: Vec<Events>,
        capacity: usize,
    ) -> Vec<Chunk> {
        let (shared, _) = cancellations(0);
        let (publish, events) = broadcast::channel(capacity);
        for step in steps {
            publish.send(step).unwrap();
        }
        drop(publish);
        let (_stop, stopping) = watch::channel(false);
        let (sender, mut receiver) = mpsc::channel(1_000);
        forward(shared, filter, events, stopping, sender).await;
        let mut chunks = Vec::new();
        while let Some(chunk) = receiver.recv().await {
            chunks.push(chunk);
        }
        chunks
    }

    #[tokio::test]
    async fn a_step_goes_out_in_chunks_in_order() {
        let (_, events) = cancellations(150);
        let chunks = forwarded(everything(), vec![events.into()], 4).await;
        let sizes: Vec<usize> = chunks.iter().map(Vec::len).collect();
        assert_eq!(sizes, [CHUNK, CHUNK, 150 - 2 * CHUNK]);
        let ids: Vec<String> = chunks
            .into_iter()
            .flatten()
            .map(|e| e.unwrap().tickets[0].ticket_id.clone())
            .collect();
        let expected: Vec<String> = (0..150).map(|i| format!("t{i}")).collect();
        assert_eq!(ids, expected);
    }

    #[tokio::test]
    async fn only_the_events_the_filter_wants_go_out() {
        let (_, events) = cancellations(10);
        let filter = pb::StreamEventsRequest {
            configuration_name: "duel".into(),
            ticket_ids: vec!["t3".into(), "t7".into()],
        };
        let chunks = forwarded(filter, vec![events.clone().into()], 4).await;
        let ids: Vec<String> = chunks
            .into_iter()
            .flatten()
            .map(|e| e.unwrap().tickets[0].ticket_id.clone())
            .collect();
        assert_eq!(ids, ["t3", "t7"]);
        let elsewhere = pb::StreamEventsRequest {
            configuration_name: "team-5v5".into(),
            ticket_ids: vec![],
        };
        assert!(
            forwarded(elsewhere, vec![events.into()], 4)
                .await
                .is_empty()
        );
    }

    #[tokio::test]
    async fn a_stream_further_behind_than_the_buffer_ends_with_resource_exhausted() {
        let (_, events) = cancellations(6);
        let steps: Vec<Events> = events.into_iter().map(|e| Arc::from(vec![e])).collect();
        let chunks = forwarded(everything(), steps, 4).await;
        assert_eq!(chunks.len(), 1, "nothing after the refusal");
        let status = chunks[0][0].as_ref().unwrap_err();
        assert_eq!(status.code(), tonic::Code::ResourceExhausted);
        assert_eq!(status.message(), "the stream fell 2 engine steps behind");
    }
}
