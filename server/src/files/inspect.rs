//! What an uploaded file really is, decided from its bytes: its type is
//! sniffed (the `infer` crate) against an allow-list, never taken from its
//! name or the browser; an image is decoded within bounded dimensions and
//! memory, turned upright, re-encoded without its metadata (a phone photo's
//! EXIF holds where it was taken) and given a thumbnail. CPU-heavy: run it
//! off the async threads (`Files::check`).

use super::Refused;
use crate::config::FileLimits;
use bytes::Bytes;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};
use std::io::Cursor;

/// Longest side of a thumbnail, in pixels.
pub const THUMBNAIL_SIDE: u32 = 320;

/// Either side of an image beyond this is refused whatever its pixel count
/// (a 1 × 40,000,000 strip is no photo).
const MAX_SIDE: u32 = 20_000;

/// A file that passed, ready to store.
#[derive(Debug)]
pub struct Checked {
    pub mime: &'static str,
    /// The extension its name must end with.
    pub extension: &'static str,
    /// The bytes to store: an image re-encoded, anything else as uploaded.
    pub bytes: Bytes,
    pub dimensions: Option<(u32, u32)>,
    pub thumbnail: Option<Thumbnail>,
}

#[derive(Debug)]
pub struct Thumbnail {
    pub mime: &'static str,
    pub bytes: Bytes,
}

/// The types a chat takes: sniffed type → (type served, extension).
const ALLOWED: &[(&str, &str)] = &[
    ("image/jpeg", "jpg"),
    ("image/png", "png"),
    ("image/webp", "webp"),
    ("application/pdf", "pdf"),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
    ),
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
    ),
    (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "pptx",
    ),
    ("application/vnd.oasis.opendocument.text", "odt"),
    ("application/vnd.oasis.opendocument.spreadsheet", "ods"),
    ("application/vnd.oasis.opendocument.presentation", "odp"),
    ("application/msword", "doc"),
    ("application/vnd.ms-excel", "xls"),
    ("application/vnd.ms-powerpoint", "ppt"),
];

/// Checks `raw` (already within the size limit) and prepares what to store.
pub fn inspect(raw: Bytes, limits: &FileLimits) -> Result<Checked, Refused> {
    if raw.is_empty() {
        return Err(Refused::Empty);
    }
    let Some(kind) = infer::get(&raw) else {
        // No magic number: plain text is the one type left that may pass.
        if is_plain_text(&raw) {
            return Ok(Checked {
                mime: "text/plain",
                extension: "txt",
                bytes: raw,
                dimensions: None,
                thumbnail: None,
            });
        }
        return Err(Refused::Unsupported("an unknown type".into()));
    };
    let Some(&(mime, extension)) = ALLOWED.iter().find(|(m, _)| *m == kind.mime_type()) else {
        return Err(Refused::Unsupported(kind.mime_type().to_owned()));
    };
    let format = match mime {
        "image/jpeg" => ImageFormat::Jpeg,
        "image/png" => ImageFormat::Png,
        "image/webp" => ImageFormat::WebP,
        _ => {
            return Ok(Checked {
                mime,
                extension,
                bytes: raw,
                dimensions: None,
                thumbnail: None,
            });
        }
    };
    image(raw, format, limits)
}

/// UTF-8 with no control characters but tabs and line breaks (a binary
/// file without a known signature fails here).
fn is_plain_text(raw: &[u8]) -> bool {
    std::str::from_utf8(raw).is_ok_and(|s| {
        s.chars()
            .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
    })
}

fn image(raw: Bytes, format: ImageFormat, limits: &FileLimits) -> Result<Checked, Refused> {
    let corrupt = |e: image::ImageError| Refused::Corrupt(e.to_string());
    // The header first: a decompression bomb is refused before a pixel
    // of it is decoded.
    let (width, height) = ImageReader::with_format(Cursor::new(&raw[..]), format)
        .into_dimensions()
        .map_err(corrupt)?;
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels || width > MAX_SIDE || height > MAX_SIDE {
        return Err(Refused::TooManyPixels {
            width,
            height,
            max: limits.max_pixels,
        });
    }
    let mut reader = ImageReader::with_format(Cursor::new(&raw[..]), format);
    let mut bounds = image::Limits::default();
    bounds.max_image_width = Some(width);
    bounds.max_image_height = Some(height);
    // Room for the decoded image (up to 16 bytes a pixel) and a decoder's
    // buffers; nothing an upload does can ask for more.
    bounds.max_alloc = Some(pixels * 16 + 64 * 1024 * 1024);
    reader.limits(bounds);
    let mut decoder = reader.into_decoder().map_err(corrupt)?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    img.apply_orientation(orientation);
    let (mime, extension, bytes) = encode(&img, format)?;
    let small = img.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE);
    let (thumb_mime, _, thumb) = encode(&small, format)?;
    Ok(Checked {
        mime,
        extension,
        bytes,
        dimensions: Some((img.width(), img.height())),
        thumbnail: Some(Thumbnail {
            mime: thumb_mime,
            bytes: thumb,
        }),
    })
}

/// Re-encodes without any metadata: a photo as JPEG (quality 85), anything
/// with transparency as PNG; a WebP becomes one of the two.
fn encode(
    img: &DynamicImage,
    from: ImageFormat,
) -> Result<(&'static str, &'static str, Bytes), Refused> {
    let mut out = Cursor::new(Vec::new());
    let failed = |e: image::ImageError| Refused::Corrupt(format!("cannot re-encode: {e}"));
    let png = from == ImageFormat::Png || img.color().has_alpha();
    if png {
        img.write_to(&mut out, ImageFormat::Png).map_err(failed)?;
        return Ok(("image/png", "png", Bytes::from(out.into_inner())));
    }
    let rgb = DynamicImage::ImageRgb8(img.to_rgb8());
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
    rgb.write_with_encoder(encoder).map_err(failed)?;
    Ok(("image/jpeg", "jpg", Bytes::from(out.into_inner())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageEncoder, RgbImage};

    /// A black greyscale PNG: a few kilobytes however many pixels.
    fn png(width: u32, height: u32) -> Bytes {
        use image::codecs::png::{CompressionType, FilterType, PngEncoder};
        let mut out = Vec::new();
        PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::NoFilter)
            .write_image(
                &vec![0u8; (width * height) as usize],
                width,
                height,
                image::ExtendedColorType::L8,
            )
            .expect("encodes");
        Bytes::from(out)
    }

    fn jpeg(width: u32, height: u32) -> Bytes {
        let mut out = Cursor::new(Vec::new());
        DynamicImage::ImageRgb8(RgbImage::new(width, height))
            .write_to(&mut out, ImageFormat::Jpeg)
            .expect("encodes");
        Bytes::from(out.into_inner())
    }

    #[test]
    fn a_photo_is_re_encoded_with_a_thumbnail() {
        let checked = inspect(jpeg(1200, 800), &FileLimits::default()).expect("passes");
        assert_eq!((checked.mime, checked.extension), ("image/jpeg", "jpg"));
        assert_eq!(checked.dimensions, Some((1200, 800)));
        let thumb = checked.thumbnail.expect("a thumbnail");
        let (w, h) = ImageReader::new(Cursor::new(&thumb.bytes[..]))
            .with_guessed_format()
            .expect("readable")
            .into_dimensions()
            .expect("dimensions");
        assert_eq!((w, h), (320, 213));
    }

    #[test]
    fn a_bomb_is_refused_from_its_header() {
        // 10,000 × 5,000 pixels of nothing: small compressed.
        let bomb = png(10_000, 5_000);
        assert!(bomb.len() < 1_000_000, "{}", bomb.len());
        let refused = inspect(bomb, &FileLimits::default()).expect_err("refused");
        assert!(
            matches!(refused, Refused::TooManyPixels { .. }),
            "{refused:?}"
        );
    }

    #[test]
    fn a_truncated_image_is_corrupt() {
        let whole = png(300, 300);
        let cut = whole.slice(..whole.len() / 2);
        let refused = inspect(cut, &FileLimits::default()).expect_err("refused");
        assert!(matches!(refused, Refused::Corrupt(_)), "{refused:?}");
    }

    #[test]
    fn types_come_from_the_bytes() {
        let limits = FileLimits::default();
        let pdf = Bytes::from_static(b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n");
        assert_eq!(
            inspect(pdf, &limits).expect("a PDF").mime,
            "application/pdf"
        );
        let text = Bytes::from_static("Invoice 42\n\tTotal: 80 €\n".as_bytes());
        assert_eq!(inspect(text, &limits).expect("text").mime, "text/plain");
        // An ELF executable, a ZIP and binary junk are refused.
        for refused in [
            &b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0"[..],
            b"PK\x03\x04\x14\0\0\0",
            b"\0\x01\x02junk",
        ] {
            let e = inspect(Bytes::copy_from_slice(refused), &limits).expect_err("refused");
            assert!(matches!(e, Refused::Unsupported(_)), "{e:?}");
        }
        assert!(matches!(
            inspect(Bytes::new(), &limits),
            Err(Refused::Empty)
        ));
    }
}
