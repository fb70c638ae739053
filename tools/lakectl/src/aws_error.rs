//! An AWS SDK call that failed, as `lakectl`'s commands report it: the call's name and the SDK's
//! error, cut to a line. `backfill` and `metrics` share it; `?` turns it into their own errors.

/// The longest SDK error text kept: its debug form names the service error and request id first.
const MESSAGE_CHARS: usize = 400;

#[derive(Debug, thiserror::Error)]
#[error("AWS call {call} failed: {message}")]
pub struct AwsCallError {
    pub call: &'static str,
    pub message: String,
}

/// For `map_err`: the SDK error of `call` as an [`AwsCallError`].
pub fn aws<E: std::fmt::Debug>(call: &'static str) -> impl FnOnce(E) -> AwsCallError {
    move |e| AwsCallError {
        call,
        message: format!("{e:?}").chars().take(MESSAGE_CHARS).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_names_the_call_and_is_cut_to_a_line() {
        let e = aws("PutObject")("x".repeat(1000));
        assert_eq!(e.call, "PutObject");
        assert_eq!(e.message.chars().count(), MESSAGE_CHARS);
        assert!(e.to_string().starts_with("AWS call PutObject failed: \"xxx"), "{e}");
    }
}
