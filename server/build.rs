//! Compiles `proto/` (at the repository root) into Rust with protox, a protobuf compiler in
//! pure Rust, so that building needs no system `protoc`; writes the encoded
//! `FileDescriptorSet` beside the generated code for the reflection service.

use std::path::PathBuf;

/// The rally API: what `rally serve` serves and reflects.
const RALLY: &[&str] = &[
    "rally/v1/common.proto",
    "rally/v1/placement.proto",
    "rally/v1/event.proto",
    "rally/v1/matchmaking.proto",
    "rally/v1/admin.proto",
];

/// The echo example's service, kept out of rally's descriptor set so that reflection on
/// rally's server does not list it.
const ECHO: &[&str] = &["echo/v1/echo.proto"];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../proto");
    println!("cargo:rerun-if-changed={}", root.display());
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    for (protos, descriptor) in [
        (RALLY, "rally_descriptor.bin"),
        (ECHO, "echo_descriptor.bin"),
    ] {
        let files = protox::compile(protos, [&root])?;
        std::fs::write(out.join(descriptor), prost::Message::encode_to_vec(&files))?;
        tonic_prost_build::configure()
            .build_client(true)
            .build_server(true)
            .compile_fds(files)?;
    }
    Ok(())
}
