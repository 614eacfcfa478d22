//! A grpcurl work-alike for tests (feature `test-support`): runs a grpcurl command line
//! against a server, learning the method's types from the server's reflection service as
//! grpcurl does, and prints what grpcurl would print. grpcurl itself cannot be installed
//! where rally is built, and the README's grpcurl commands must be tested as written.
//!
//! Supported: `-plaintext`, `-d '<json>'` and `-d @` (the JSON from standard input),
//! `ADDRESS list`, and `ADDRESS SERVICE/METHOD` for unary and server-streaming methods.
//! Requests are read and responses written with protobuf's canonical JSON mapping
//! (prost-reflect's, as grpcurl's protojson): lowerCamelCase names, zero values omitted,
//! 2-space indentation, one JSON document per response message.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use prost::Message as _;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, SerializeOptions};
use prost_types::FileDescriptorProto;
use tokio_stream::StreamExt as _;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::{Channel, Endpoint};
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
use tonic_reflection::pb::v1::{ServerReflectionRequest, ServerReflectionResponse};

/// What went wrong, worded as grpcurl words it where grpcurl has words for it.
#[derive(Debug)]
pub enum Error {
    /// The command line is not one this work-alike understands.
    Usage(String),
    /// The server could not be reached, or reflection did not answer as expected.
    Failed(String),
    /// The call was answered with an error status.
    Status(tonic::Status),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(message) | Error::Failed(message) => f.write_str(message),
            // grpcurl's report of a status, on standard error.
            Error::Status(status) => write!(
                f,
                "ERROR:\n  Code: {:?}\n  Message: {}",
                status.code(),
                status.message()
            ),
        }
    }
}

impl std::error::Error for Error {}

/// A grpcurl command line, parsed.
#[derive(Debug, PartialEq)]
struct Command {
    plaintext: bool,
    data: Option<String>,
    address: String,
    action: Action,
}

#[derive(Debug, PartialEq)]
enum Action {
    List,
    Call { service: String, method: String },
}

/// Runs `args` (the words after `grpcurl`) and returns what grpcurl prints on standard
/// output; `stdin` is what `-d @` reads.
pub async fn run<S: AsRef<str>>(args: &[S], stdin: &str) -> Result<String, Error> {
    let command = parse(args, stdin)?;
    if !command.plaintext {
        return Err(Error::Usage(
            "only -plaintext is supported: the test servers speak no TLS".into(),
        ));
    }
    let channel = Endpoint::from_shared(format!("http://{}", command.address))
        .map_err(|e| Error::Failed(format!("bad address `{}`: {e}", command.address)))?
        .connect()
        .await
        .map_err(|e| Error::Failed(format!("failed to dial `{}`: {e}", command.address)))?;
    let mut reflection = Reflection::new(channel.clone());
    match command.action {
        Action::List => Ok(reflection
            .list_services()
            .await?
            .into_iter()
            .map(|name| name + "\n")
            .collect()),
        Action::Call { service, method } => {
            let pool = reflection.pool_for(&service).await?;
            call(channel, &pool, &service, &method, command.data.as_deref()).await
        }
    }
}

/// Splits a shell command line into words as `sh` would for the commands the README shows:
/// single and double quotes, backslash escapes outside single quotes, and `\` line
/// continuations. A leading `grpcurl` is kept; callers drop it.
pub fn split_words(line: &str) -> Result<Vec<String>, Error> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => words.extend(word.take()),
            '\'' => {
                let quoted = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => quoted.push(c),
                        None => return Err(Error::Usage("unterminated `'`".into())),
                    }
                }
            }
            '"' => {
                let quoted = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => quoted.push(c),
                            Some('\n') => {}
                            Some(c) => quoted.extend(['\\', c]),
                            None => return Err(Error::Usage("unterminated `\"`".into())),
                        },
                        Some(c) => quoted.push(c),
                        None => return Err(Error::Usage("unterminated `\"`".into())),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') => {}
                Some(c) => word.get_or_insert_with(String::new).push(c),
                None => return Err(Error::Usage("a command cannot end in `\\`".into())),
            },
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

fn parse<S: AsRef<str>>(args: &[S], stdin: &str) -> Result<Command, Error> {
    let mut plaintext = false;
    let mut data = None;
    let mut positional = Vec::new();
    let mut args = args.iter().map(AsRef::as_ref);
    while let Some(arg) = args.next() {
        match arg {
            "-plaintext" | "--plaintext" => plaintext = true,
            "-d" | "--d" => {
                let value = args
                    .next()
                    .ok_or_else(|| Error::Usage("`-d` needs a value".into()))?;
                data = Some(if value == "@" {
                    stdin.to_owned()
                } else {
                    value.to_owned()
                });
            }
            flag if flag.starts_with('-') => {
                return Err(Error::Usage(format!("unsupported flag `{flag}`")));
            }
            word => positional.push(word),
        }
    }
    let (address, action) = match positional.as_slice() {
        [address, "list"] => (address, Action::List),
        [address, symbol] => {
            let (service, method) = symbol
                .rsplit_once(['/', '.'])
                .filter(|(service, method)| !service.is_empty() && !method.is_empty())
                .ok_or_else(|| Error::Usage(format!("`{symbol}` is not SERVICE/METHOD")))?;
            let action = Action::Call {
                service: service.to_owned(),
                method: method.to_owned(),
            };
            (address, action)
        }
        _ => {
            return Err(Error::Usage(format!(
                "expected ADDRESS followed by `list` or SERVICE/METHOD, got `{}`",
                positional.join(" ")
            )));
        }
    };
    Ok(Command {
        plaintext,
        data,
        address: (*address).to_owned(),
        action,
    })
}

/// Calls `service/method` with `data` (absent: an empty message) and renders the answers.
async fn call(
    channel: Channel,
    pool: &DescriptorPool,
    service: &str,
    method: &str,
    data: Option<&str>,
) -> Result<String, Error> {
    let descriptor = pool
        .get_service_by_name(service)
        .and_then(|s| s.methods().find(|m| m.name() == method))
        .ok_or_else(|| Error::Failed(format!("service `{service}` has no method `{method}`")))?;
    if descriptor.is_client_streaming() {
        return Err(Error::Usage(format!(
            "`{method}` is client-streaming, which this work-alike does not support"
        )));
    }
    let request = request_message(descriptor.input(), data.unwrap_or("{}"))?;
    let path = PathAndQuery::try_from(format!("/{service}/{method}"))
        .map_err(|e| Error::Usage(format!("bad method path: {e}")))?;
    let codec = DynamicCodec(descriptor.output());

    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| Error::Failed(format!("connection not ready: {e}")))?;
    let request = tonic::Request::new(request);
    let mut out = String::new();
    if descriptor.is_server_streaming() {
        let mut stream = grpc
            .server_streaming(request, path, codec)
            .await
            .map_err(Error::Status)?
            .into_inner();
        while let Some(message) = stream.next().await {
            out += &render(&message.map_err(Error::Status)?)?;
        }
    } else {
        let message = grpc
            .unary(request, path, codec)
            .await
            .map_err(Error::Status)?;
        out += &render(message.get_ref())?;
    }
    Ok(out)
}

/// The request from its JSON, as grpcurl reads `-d`.
fn request_message(descriptor: MessageDescriptor, json: &str) -> Result<DynamicMessage, Error> {
    let mut deserializer = serde_json::Deserializer::from_str(json);
    let message = DynamicMessage::deserialize(descriptor, &mut deserializer)
        .map_err(|e| Error::Usage(format!("error parsing request data: {e}")))?;
    deserializer
        .end()
        .map_err(|e| Error::Usage(format!("error parsing request data: {e}")))?;
    Ok(message)
}

/// One response as grpcurl prints it: indented JSON and a newline.
fn render(message: &DynamicMessage) -> Result<String, Error> {
    let mut bytes = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(
        &mut bytes,
        serde_json::ser::PrettyFormatter::with_indent(b"  "),
    );
    message
        .serialize_with_options(&mut serializer, &SerializeOptions::new())
        .map_err(|e| Error::Failed(format!("cannot render the response: {e}")))?;
    let mut text = String::from_utf8(bytes).expect("serde_json writes UTF-8");
    text.push('\n');
    Ok(text)
}

/// A reflection client that fetches files as grpcurl does: the file that defines a symbol,
/// then each dependency the pool does not have yet.
struct Reflection {
    client: ServerReflectionClient<Channel>,
}

impl Reflection {
    fn new(channel: Channel) -> Self {
        Reflection {
            client: ServerReflectionClient::new(channel),
        }
    }

    async fn ask(&mut self, request: MessageRequest) -> Result<MessageResponse, Error> {
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(request),
        };
        let mut answers = self
            .client
            .server_reflection_info(tokio_stream::once(request))
            .await
            .map_err(Error::Status)?
            .into_inner();
        let answer: ServerReflectionResponse = answers
            .next()
            .await
            .ok_or_else(|| Error::Failed("reflection closed the stream unanswered".into()))?
            .map_err(Error::Status)?;
        match answer.message_response {
            Some(MessageResponse::ErrorResponse(e)) => Err(Error::Failed(format!(
                "reflection refused: {} ({})",
                e.error_message, e.error_code
            ))),
            Some(response) => Ok(response),
            None => Err(Error::Failed("reflection sent an empty answer".into())),
        }
    }

    /// The services the server lists, sorted by name as grpcurl prints them.
    async fn list_services(&mut self) -> Result<Vec<String>, Error> {
        match self
            .ask(MessageRequest::ListServices(String::new()))
            .await?
        {
            MessageResponse::ListServicesResponse(list) => {
                let names: BTreeSet<String> = list.service.into_iter().map(|s| s.name).collect();
                Ok(names.into_iter().collect())
            }
            _ => Err(Error::Failed(
                "reflection answered `list` with no list".into(),
            )),
        }
    }

    /// A pool holding `symbol`'s file and everything it imports.
    async fn pool_for(&mut self, symbol: &str) -> Result<DescriptorPool, Error> {
        let mut files: BTreeMap<String, FileDescriptorProto> = BTreeMap::new();
        let mut wanted = vec![MessageRequest::FileContainingSymbol(symbol.to_owned())];
        while let Some(request) = wanted.pop() {
            let MessageResponse::FileDescriptorResponse(response) = self.ask(request).await? else {
                return Err(Error::Failed("reflection answered with no file".into()));
            };
            for encoded in response.file_descriptor_proto {
                let file = FileDescriptorProto::decode(encoded.as_slice())
                    .map_err(|e| Error::Failed(format!("reflection sent a bad file: {e}")))?;
                for dependency in &file.dependency {
                    if !files.contains_key(dependency) {
                        wanted.push(MessageRequest::FileByFilename(dependency.clone()));
                    }
                }
                files.insert(file.name().to_owned(), file);
            }
            wanted.retain(|request| {
                !matches!(request, MessageRequest::FileByFilename(name) if files.contains_key(name))
            });
        }
        let mut pool = DescriptorPool::new();
        pool.add_file_descriptor_protos(files.into_values())
            .map_err(|e| Error::Failed(format!("reflection's files do not fit together: {e}")))?;
        Ok(pool)
    }
}

/// A codec for messages known only at run time.
struct DynamicCodec(MessageDescriptor);

struct DynamicEncoder;

struct DynamicDecoder(MessageDescriptor);

impl Codec for DynamicCodec {
    type Encode = DynamicMessage;
    type Decode = DynamicMessage;
    type Encoder = DynamicEncoder;
    type Decoder = DynamicDecoder;

    fn encoder(&mut self) -> DynamicEncoder {
        DynamicEncoder
    }

    fn decoder(&mut self) -> DynamicDecoder {
        DynamicDecoder(self.0.clone())
    }
}

impl Encoder for DynamicEncoder {
    type Item = DynamicMessage;
    type Error = tonic::Status;

    fn encode(&mut self, item: DynamicMessage, dst: &mut EncodeBuf<'_>) -> Result<(), Self::Error> {
        item.encode(dst)
            .map_err(|e| tonic::Status::internal(format!("cannot encode the request: {e}")))
    }
}

impl Decoder for DynamicDecoder {
    type Item = DynamicMessage;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<DynamicMessage>, Self::Error> {
        DynamicMessage::decode(self.0.clone(), src)
            .map(Some)
            .map_err(|e| tonic::Status::internal(format!("cannot decode the response: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_split_as_the_shell_splits_them() {
        let line = "grpcurl -plaintext -d '{\"ticketId\": \"t 1\"}' \\\n  127.0.0.1:50051 \"rally.v1.Matchmaking/Stop\"Matchmaking";
        assert_eq!(
            split_words(line).unwrap(),
            [
                "grpcurl",
                "-plaintext",
                "-d",
                "{\"ticketId\": \"t 1\"}",
                "127.0.0.1:50051",
                "rally.v1.Matchmaking/StopMatchmaking",
            ]
        );
        assert!(split_words("grpcurl -d '{").is_err());
    }

    #[test]
    fn a_command_names_its_address_and_method() {
        let command = parse(&["-plaintext", "-d", "@", "localhost:1", "a.b.S/M"], "{}").unwrap();
        assert_eq!(
            command,
            Command {
                plaintext: true,
                data: Some("{}".into()),
                address: "localhost:1".into(),
                action: Action::Call {
                    service: "a.b.S".into(),
                    method: "M".into()
                },
            }
        );
        let list = parse(&["-plaintext", "localhost:1", "list"], "").unwrap();
        assert_eq!(list.action, Action::List);
        assert!(matches!(
            parse(&["-max-time", "1", "localhost:1", "list"], ""),
            Err(Error::Usage(_))
        ));
        assert!(matches!(
            parse(&["localhost:1", "NoMethod"], ""),
            Err(Error::Usage(_))
        ));
    }
}
