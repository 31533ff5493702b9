//! What the browser says about files: a message's text where it has only
//! files (previews and announcements are never empty), sizes and types as
//! people read them, the thumbnail's box, and the checks made before an
//! upload so a file the server would refuse for its size or number is
//! never sent. Pure, so the words are unit-tested.

use crate::model::{Attachment, Message};

/// The largest side of a thumbnail the server makes.
pub const THUMBNAIL_SIDE: i32 = 320;

/// The text that stands for a message in a preview or an announcement: its
/// caption, else its files ("📎 sink.jpg", "📎 2 files").
pub fn text_of(m: &Message) -> String {
    if !m.content.trim().is_empty() || m.attachments.is_empty() {
        return m.content.clone();
    }
    files_label(
        &m.attachments
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>(),
    )
}

/// "📎 sink.jpg" for one file, "📎 3 files" for more.
pub fn files_label(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => format!("📎 {one}"),
        many => format!("📎 {} files", many.len()),
    }
}

/// A size as people read it: "512 B", "12 KB", "1.2 MB" (powers of 1024,
/// as the limits are set).
pub fn human_size(bytes: u64) -> String {
    const KB: f64 = 1024.0;
    let b = bytes as f64;
    if b < KB {
        format!("{bytes} B")
    } else if b < KB * KB {
        format!("{:.0} KB", (b / KB).max(1.0))
    } else if b < KB * KB * KB {
        trim_zero(format!("{:.1} MB", b / (KB * KB)))
    } else {
        trim_zero(format!("{:.1} GB", b / (KB * KB * KB)))
    }
}

/// "10.0 MB" reads as "10 MB".
fn trim_zero(s: String) -> String {
    s.replace(".0 ", " ")
}

/// A readable name for a checked type ("PDF", "Word document").
pub fn kind_label(mime: &str) -> &'static str {
    match mime {
        "application/pdf" => "PDF",
        "text/plain" => "Text",
        "image/jpeg" => "JPEG image",
        "image/png" => "PNG image",
        "image/webp" => "WebP image",
        m if m.contains("wordprocessingml") || m == "application/msword" => "Word document",
        m if m.contains("spreadsheetml") || m == "application/vnd.ms-excel" => "Excel sheet",
        m if m.contains("presentationml") || m == "application/vnd.ms-powerpoint" => "PowerPoint",
        m if m.starts_with("application/vnd.oasis.opendocument") => "OpenDocument",
        m if m.starts_with("image/") => "Image",
        _ => "File",
    }
}

/// The box a thumbnail is shown in: the image's size scaled to fit within
/// `THUMBNAIL_SIDE` (never enlarged), so the row keeps its height before
/// the picture has loaded.
pub fn thumbnail_box(a: &Attachment) -> (i32, i32) {
    let (w, h) = (
        a.width.unwrap_or(THUMBNAIL_SIDE).max(1),
        a.height.unwrap_or(THUMBNAIL_SIDE).max(1),
    );
    let side = w.max(h);
    if side <= THUMBNAIL_SIDE {
        return (w, h);
    }
    let scale = |v: i32| ((i64::from(v) * i64::from(THUMBNAIL_SIDE)) / i64::from(side)).max(1);
    (scale(w) as i32, scale(h) as i32)
}

/// Why a file cannot be attached, said before any byte is sent; `None`:
/// it may go. `max_bytes` 0 leaves the size to the server.
pub fn refuse_size(size: u64, max_bytes: u64) -> Option<String> {
    if size == 0 {
        return Some("The file is empty".into());
    }
    (max_bytes > 0 && size > max_bytes)
        .then(|| format!("Too large: files may be up to {}", human_size(max_bytes)))
}

/// How many more files fit in a message that has `attached`; `per_message`
/// 0 leaves the count to the server.
pub fn room_for(attached: usize, per_message: u32) -> usize {
    if per_message == 0 {
        return usize::MAX;
    }
    (per_message as usize).saturating_sub(attached)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::thread::tests::msg;

    fn file(name: &str, w: Option<i32>, h: Option<i32>) -> Attachment {
        Attachment {
            id: 1,
            name: name.into(),
            mime: "image/png".into(),
            size: 10,
            width: w,
            height: h,
            thumbnail: w.is_some(),
            sha256: String::new(),
        }
    }

    #[test]
    fn a_message_of_files_alone_is_never_empty() {
        let mut m = msg(1, None);
        m.content = String::new();
        m.attachments = vec![file("sink.jpg", None, None)];
        assert_eq!(text_of(&m), "📎 sink.jpg");
        m.attachments.push(file("b.pdf", None, None));
        assert_eq!(text_of(&m), "📎 2 files");
        m.content = "the leak".into();
        assert_eq!(text_of(&m), "the leak", "a caption stands for itself");
    }

    #[test]
    fn sizes_and_types_read_well() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(12 * 1024), "12 KB");
        assert_eq!(human_size(1_258_291), "1.2 MB");
        assert_eq!(human_size(10 * 1024 * 1024), "10 MB");
        assert_eq!(kind_label("application/pdf"), "PDF");
        assert_eq!(
            kind_label("application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            "Word document"
        );
        assert_eq!(kind_label("application/x-what"), "File");
    }

    #[test]
    fn thumbnails_fit_without_growing() {
        assert_eq!(thumbnail_box(&file("a", Some(640), Some(480))), (320, 240));
        assert_eq!(thumbnail_box(&file("a", Some(100), Some(900))), (35, 320));
        assert_eq!(thumbnail_box(&file("a", Some(40), Some(30))), (40, 30));
    }

    #[test]
    fn checks_before_uploading_follow_the_settings() {
        assert_eq!(refuse_size(10, 10), None);
        assert!(
            refuse_size(11, 10 * 1024 * 1024 + 1).is_none(),
            "under the limit"
        );
        assert_eq!(
            refuse_size(11 * 1024 * 1024, 10 * 1024 * 1024).as_deref(),
            Some("Too large: files may be up to 10 MB")
        );
        assert!(refuse_size(0, 10).is_some());
        assert_eq!(
            refuse_size(u64::MAX, 0),
            None,
            "unknown limit: the server says"
        );
        assert_eq!(room_for(8, 10), 2);
        assert_eq!(room_for(12, 10), 0);
        assert_eq!(room_for(3, 0), usize::MAX);
    }
}
