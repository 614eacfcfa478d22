//! How a refusal becomes a gRPC status: the one table from `rally_base::ErrorKind` to
//! `tonic::Code`, and the `google.rpc.BadRequest` detail that names the field at fault.

use rally_base::ErrorKind;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// The status code of each kind of refusal.
pub fn code(kind: ErrorKind) -> Code {
    match kind {
        ErrorKind::NotFound => Code::NotFound,
        ErrorKind::AlreadyExists => Code::AlreadyExists,
        ErrorKind::InvalidArgument => Code::InvalidArgument,
        ErrorKind::FailedPrecondition => Code::FailedPrecondition,
    }
}

/// The status of a refused request. An invalid argument that names its field carries a
/// `google.rpc.BadRequest` with one field violation, so a client can point at the field
/// without reading the message; `field` is the request field's path as BadRequest wants
/// it, dot-separated with indexes (`players[0].player_attributes`).
pub fn status(kind: ErrorKind, field: Option<&str>, message: &str) -> Status {
    match (kind, field) {
        (ErrorKind::InvalidArgument, Some(field)) => Status::with_error_details(
            Code::InvalidArgument,
            message,
            ErrorDetails::with_bad_request_violation(field, message),
        ),
        _ => Status::new(code(kind), message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_its_code() {
        let table = [
            (ErrorKind::NotFound, Code::NotFound),
            (ErrorKind::AlreadyExists, Code::AlreadyExists),
            (ErrorKind::InvalidArgument, Code::InvalidArgument),
            (ErrorKind::FailedPrecondition, Code::FailedPrecondition),
        ];
        for (kind, expected) in table {
            assert_eq!(code(kind), expected, "{kind}");
            let status = status(kind, None, "refused");
            assert_eq!(status.code(), expected, "{kind}");
            assert_eq!(status.message(), "refused");
        }
    }

    #[test]
    fn an_invalid_field_round_trips_as_a_bad_request_violation() {
        let sent = status(
            ErrorKind::InvalidArgument,
            Some("players[0].player_id"),
            "`` is not a player id",
        );
        assert_eq!(sent.code(), Code::InvalidArgument);
        // What a client sees: the status as it crosses the wire, details included.
        let mut headers = tonic::metadata::MetadataMap::new().into_headers();
        sent.add_header(&mut headers).unwrap();
        let received = Status::from_header_map(&headers).unwrap();
        let details = received.get_error_details();
        let bad_request = details.bad_request().expect("a BadRequest detail");
        assert_eq!(bad_request.field_violations.len(), 1);
        let violation = &bad_request.field_violations[0];
        assert_eq!(violation.field, "players[0].player_id");
        assert_eq!(violation.description, "`` is not a player id");
    }

    #[test]
    fn only_an_invalid_argument_names_a_field() {
        let status = status(ErrorKind::NotFound, Some("ticket_id"), "no ticket `t1`");
        assert_eq!(status.code(), Code::NotFound);
        assert!(status.get_error_details().bad_request().is_none());
    }
}
