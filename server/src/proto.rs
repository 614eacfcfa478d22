//! The code generated from `proto/rally/v1` (messages, clients, servers), and the encoded
//! descriptor set the reflection service serves.

/// Package `rally.v1`: the Matchmaking, Placement and Admin services and their messages.
#[allow(
    clippy::all,
    clippy::pedantic,
    missing_debug_implementations,
    missing_docs,
    unreachable_pub
)]
pub mod v1 {
    tonic::include_proto!("rally.v1");
}

/// `proto/rally/v1`'s files and their imports, as an encoded
/// `google.protobuf.FileDescriptorSet`.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("rally_descriptor");
