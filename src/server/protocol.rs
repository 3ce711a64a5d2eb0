//! hyper's own error answers, made problem+json (hardening #10).
//!
//! When a request head cannot be parsed (not HTTP, a target over hyper's limit, too
//! many or too large headers), hyper answers 400, 414 or 431 itself, before any route
//! runs, and offers no hook to shape that answer: it writes an empty body and closes.
//! [`ProblemIo`] sits between hyper and the socket and recognises exactly that write,
//! a bare head of one of those three statuses with `content-length: 0` and no
//! `content-type` (every answer of the router has one), and sends in its place the
//! same status with a problem document and the headers every answer carries. Every
//! other byte passes through untouched.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::api::error::ApiError;

/// A connection whose writes are watched for hyper's bare error answers.
pub struct ProblemIo<T> {
    inner: T,
    /// A replacement accepted from hyper and not yet all written.
    pending: Vec<u8>,
    written: usize,
}

impl<T> ProblemIo<T> {
    pub fn new(inner: T) -> ProblemIo<T> {
        ProblemIo {
            inner,
            pending: Vec::new(),
            written: 0,
        }
    }
}

/// The problem+json answer for hyper's bare `head`, or `None` when `head` is anything
/// else.
fn replacement(head: &[u8]) -> Option<Vec<u8>> {
    // The cheap test first: every write of every answer passes here.
    if head.len() > 200 || !head.starts_with(b"HTTP/1.1 4") {
        return None;
    }
    let text = std::str::from_utf8(head).ok()?;
    let rest = text.strip_prefix("HTTP/1.1 ")?;
    let status = match rest.get(..3)? {
        "400" => StatusCode::BAD_REQUEST,
        "414" => StatusCode::URI_TOO_LONG,
        "431" => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        _ => return None,
    };
    let headers = text.strip_suffix("\r\n\r\n")?.split("\r\n").skip(1);
    let mut date = None;
    let mut bare = false;
    for line in headers {
        let (name, value) = line.split_once(": ")?;
        match name {
            "connection" if value == "close" => {}
            "content-length" if value == "0" => bare = true,
            "date" => date = Some(value),
            // Anything else (a content-type above all) means a router's answer.
            _ => return None,
        }
    }
    if !bare {
        return None;
    }
    let body = serde_json::to_vec(&ApiError::Protocol(status).into_problem()).ok()?;
    let mut answer = format!(
        "HTTP/1.1 {} {}\r\nconnection: close\r\ncontent-type: application/problem+json\r\n\
         content-length: {}\r\nx-content-type-options: nosniff\r\n\
         referrer-policy: no-referrer\r\ncache-control: no-store\r\n",
        status.as_str(),
        status.canonical_reason().unwrap_or("Error"),
        body.len()
    );
    if let Some(date) = date {
        answer.push_str(&format!("date: {date}\r\n"));
    }
    answer.push_str("\r\n");
    let mut answer = answer.into_bytes();
    answer.extend_from_slice(&body);
    Some(answer)
}

impl<T: AsyncWrite + Unpin> ProblemIo<T> {
    /// Writes what is left of a replacement; ready when nothing is.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n =
                ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        Poll::Ready(Ok(()))
    }

    /// Takes `buf` as hyper's bare error answer when it is one.
    fn take_over(&mut self, buf: &[u8]) -> bool {
        match replacement(buf) {
            Some(answer) => {
                self.pending = answer;
                self.written = 0;
                true
            }
            None => false,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ProblemIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ProblemIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_pending(cx))?;
        if self.take_over(buf) {
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_pending(cx))?;
        // hyper's bare answer is a head alone: one non-empty slice.
        let mut filled = bufs.iter().filter(|b| !b.is_empty());
        if let (Some(only), None) = (filled.next(), filled.next())
            && self.take_over(only)
        {
            return Poll::Ready(Ok(only.len()));
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::replacement;

    #[test]
    fn hypers_bare_answers_become_problems_and_nothing_else_does() {
        let date = "date: Tue, 01 Dec 2026 07:04:47 GMT\r\n";
        for (status, code) in [
            ("400 Bad Request", "malformed_request"),
            ("414 URI Too Long", "uri_too_long"),
            ("431 Request Header Fields Too Large", "headers_too_large"),
        ] {
            let bare = format!(
                "HTTP/1.1 {status}\r\nconnection: close\r\ncontent-length: 0\r\n{date}\r\n"
            );
            let answer = String::from_utf8(replacement(bare.as_bytes()).unwrap()).unwrap();
            let (head, body) = answer.split_once("\r\n\r\n").unwrap();
            assert!(
                head.starts_with(&format!("HTTP/1.1 {status}\r\n")),
                "{head}"
            );
            assert!(head.contains("content-type: application/problem+json"));
            assert!(head.contains(&format!("content-length: {}", body.len())));
            assert!(head.contains("x-content-type-options: nosniff"));
            assert!(head.contains(date.trim_end()));
            let problem: serde_json::Value = serde_json::from_str(body).unwrap();
            assert_eq!(problem["type"], format!("/problems/{code}"));
            assert_eq!(problem["status"], status[..3].parse::<u16>().unwrap());
        }
        for other in [
            // A router's 400 has a content-type.
            format!(
                "HTTP/1.1 400 Bad Request\r\ncontent-type: application/problem+json\r\ncontent-length: 0\r\n{date}\r\n"
            ),
            // Other statuses, bodies, partial heads and body bytes pass.
            format!(
                "HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n{date}\r\n"
            ),
            format!(
                "HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 12\r\n{date}\r\n"
            ),
            "HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n".into(),
            "{\"status\":400}".into(),
        ] {
            assert!(replacement(other.as_bytes()).is_none(), "{other}");
        }
    }
}
