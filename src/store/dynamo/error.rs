//! SDK errors as [`StoreError`]s: what a later retry may cure becomes `Unavailable`,
//! the rest `Internal`, with messages that never carry a request or credentials.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

use crate::store::StoreError;

/// An error and its sources, by `Display` only: `Debug` of SDK errors dumps whole
/// requests and responses.
pub(super) fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

pub(super) fn internal(e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(e.to_string())
}

/// Maps a failed SDK call: throttled, unreachable, timed out or a DynamoDB-side
/// failure → `Unavailable` (a later retry may succeed); anything else → `Internal`.
/// Messages carry the operation, DynamoDB's error code and message, never the
/// request or its credentials.
pub(crate) fn map_sdk_error<E, R>(operation: &str, err: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
    aws_sdk_dynamodb::Error: From<SdkError<E, R>>,
{
    match &err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            return StoreError::Unavailable(format!("{operation}: {}", error_chain(&err)));
        }
        SdkError::ConstructionFailure(_) => {
            return StoreError::Internal(format!("{operation}: {}", error_chain(&err)));
        }
        _ => {}
    }
    use aws_sdk_dynamodb::Error as E;
    let service = E::from(err);
    // Display gives the code and DynamoDB's message; an unmodelled error keeps its
    // message in the metadata only.
    let mut message = format!("{operation}: {service}");
    if let Some(detail) = service.message()
        && !message.contains(detail)
    {
        message = format!("{message}: {detail}");
    }
    let code = service.code().unwrap_or_default();
    let transient = matches!(
        service,
        E::ProvisionedThroughputExceededException(_)
            | E::ThrottlingException(_)
            | E::RequestLimitExceeded(_)
            | E::InternalServerError(_)
    ) || matches!(
        code,
        "ThrottlingException"
            | "ProvisionedThroughputExceededException"
            | "RequestLimitExceeded"
            | "InternalServerError"
            | "ServiceUnavailable"
    );
    if transient {
        StoreError::Unavailable(message)
    } else {
        StoreError::Internal(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::error::ConnectorError;
    use aws_sdk_dynamodb::operation::get_item::GetItemError;
    use aws_sdk_dynamodb::operation::put_item::PutItemError;
    use aws_sdk_dynamodb::types::error::{
        ConditionalCheckFailedException, InternalServerError,
        ProvisionedThroughputExceededException, RequestLimitExceeded, ResourceNotFoundException,
        ThrottlingException,
    };

    fn service<E>(err: E) -> SdkError<E, ()> {
        SdkError::service_error(err, ())
    }

    #[test]
    fn throttling_and_transport_failures_are_unavailable() {
        let cases: Vec<(&str, StoreError)> = vec![
            (
                "provisioned throughput exceeded",
                map_sdk_error(
                    "PutItem",
                    service(PutItemError::ProvisionedThroughputExceededException(
                        ProvisionedThroughputExceededException::builder()
                            .message("slow down")
                            .build(),
                    )),
                ),
            ),
            (
                "throttling exception",
                map_sdk_error(
                    "GetItem",
                    service(GetItemError::ThrottlingException(
                        ThrottlingException::builder().message("slow down").build(),
                    )),
                ),
            ),
            (
                "request limit exceeded",
                map_sdk_error(
                    "PutItem",
                    service(PutItemError::RequestLimitExceeded(
                        RequestLimitExceeded::builder().message("limit").build(),
                    )),
                ),
            ),
            (
                "internal server error",
                map_sdk_error(
                    "PutItem",
                    service(PutItemError::InternalServerError(
                        InternalServerError::builder().message("oops").build(),
                    )),
                ),
            ),
            (
                "connection refused",
                map_sdk_error(
                    "GetItem",
                    SdkError::<GetItemError, ()>::dispatch_failure(ConnectorError::io(
                        "connection refused".into(),
                    )),
                ),
            ),
            (
                "timeout",
                map_sdk_error(
                    "GetItem",
                    SdkError::<GetItemError, ()>::timeout_error("took too long"),
                ),
            ),
        ];
        for (case, error) in cases {
            assert!(
                matches!(error, StoreError::Unavailable(_)),
                "{case}: {error:?}"
            );
        }
    }

    #[test]
    fn other_service_errors_are_internal_and_name_the_code() {
        let error = map_sdk_error(
            "GetItem",
            service(GetItemError::ResourceNotFoundException(
                ResourceNotFoundException::builder()
                    .message("no such table")
                    .build(),
            )),
        );
        let StoreError::Internal(message) = error else {
            panic!("expected Internal, got {error:?}");
        };
        assert!(message.contains("GetItem"), "{message}");
        assert!(message.contains("no such table"), "{message}");

        let error = map_sdk_error(
            "PutItem",
            service(PutItemError::ConditionalCheckFailedException(
                ConditionalCheckFailedException::builder().build(),
            )),
        );
        assert!(matches!(error, StoreError::Internal(_)), "{error:?}");
    }
}
