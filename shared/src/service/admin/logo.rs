//! A warehouse's logo: an uploaded PNG or WebP is checked by decoding it whole, then re-encoded
//! as a fresh PNG (8-bit RGBA, no metadata chunks), so what cartlink serves is an image it
//! wrote, never the uploaded bytes.

use std::io::Cursor;

/// The largest upload, in bytes.
pub const MAX_LOGO_BYTES: usize = 64 * 1024;
/// The largest width and height, in pixels: a re-encoded logo of this size always fits one
/// DynamoDB item (256 × 256 × 4 bytes before compression).
pub const MAX_LOGO_SIDE: u32 = 256;

/// Why a logo was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogoError {
    /// Larger than [`MAX_LOGO_BYTES`].
    #[error("the file is {0} bytes; at most {MAX_LOGO_BYTES} are accepted")]
    TooLarge(usize),
    /// Neither PNG nor WebP (SVG, JPEG, anything else).
    #[error("only PNG and WebP are accepted (no SVG)")]
    Unsupported,
    /// It says PNG or WebP but does not decode.
    #[error("the image does not decode: {0}")]
    Malformed(String),
    /// Wider or taller than [`MAX_LOGO_SIDE`], or empty.
    #[error("the image is {0}×{1} pixels; 1 to {MAX_LOGO_SIDE} a side are accepted")]
    Dimensions(u32, u32),
}

/// An image as 8-bit RGBA.
struct Rgba {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
}

/// Checks an upload and answers the PNG cartlink stores and serves.
pub fn reencode(upload: &[u8]) -> Result<Vec<u8>, LogoError> {
    if upload.len() > MAX_LOGO_BYTES {
        return Err(LogoError::TooLarge(upload.len()));
    }
    let image = if upload.starts_with(b"\x89PNG\r\n\x1a\n") {
        decode_png(upload)?
    } else if upload.len() >= 12 && &upload[..4] == b"RIFF" && &upload[8..12] == b"WEBP" {
        decode_webp(upload)?
    } else {
        return Err(LogoError::Unsupported);
    };
    encode_png(&image)
}

fn check_side(width: u32, height: u32) -> Result<(), LogoError> {
    if width == 0 || height == 0 || width > MAX_LOGO_SIDE || height > MAX_LOGO_SIDE {
        return Err(LogoError::Dimensions(width, height));
    }
    Ok(())
}

fn malformed(e: impl std::fmt::Display) -> LogoError {
    LogoError::Malformed(e.to_string())
}

fn decode_png(bytes: &[u8]) -> Result<Rgba, LogoError> {
    let mut decoder = png::Decoder::new_with_limits(
        Cursor::new(bytes),
        png::Limits {
            bytes: 4 * (MAX_LOGO_SIDE as usize).pow(2) + 4096,
        },
    );
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(malformed)?;
    let (width, height) = (reader.info().width, reader.info().height);
    check_side(width, height)?;
    let mut buf = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut buf).map_err(malformed)?;
    buf.truncate(frame.buffer_size());
    let pixels = match frame.color_type {
        png::ColorType::Rgba => buf,
        png::ColorType::Rgb => buf
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        png::ColorType::Grayscale => buf.iter().flat_map(|&g| [g, g, g, 255]).collect(),
        png::ColorType::GrayscaleAlpha => buf
            .chunks_exact(2)
            .flat_map(|p| [p[0], p[0], p[0], p[1]])
            .collect(),
        png::ColorType::Indexed => return Err(malformed("an indexed image was not expanded")),
    };
    Ok(Rgba {
        width,
        height,
        pixels,
    })
}

fn decode_webp(bytes: &[u8]) -> Result<Rgba, LogoError> {
    let mut decoder = image_webp::WebPDecoder::new(Cursor::new(bytes)).map_err(malformed)?;
    let (width, height) = decoder.dimensions();
    check_side(width, height)?;
    let size = decoder
        .output_buffer_size()
        .ok_or_else(|| malformed("no image size"))?;
    let mut buf = vec![0; size];
    decoder.read_image(&mut buf).map_err(malformed)?;
    let pixels = if decoder.has_alpha() {
        buf
    } else {
        buf.chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect()
    };
    Ok(Rgba {
        width,
        height,
        pixels,
    })
}

fn encode_png(image: &Rgba) -> Result<Vec<u8>, LogoError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, image.width, image.height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(malformed)?;
    writer.write_image_data(&image.pixels).map_err(malformed)?;
    writer.finish().map_err(malformed)?;
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A `w`×`h` RGB PNG of one colour.
    pub(crate) fn png_of(w: u32, h: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let mut e = png::Encoder::new(&mut out, w, h);
        e.set_color(png::ColorType::Rgb);
        e.set_depth(png::BitDepth::Eight);
        let mut writer = e.write_header().unwrap();
        writer
            .write_image_data(&vec![30u8; (w * h * 3) as usize])
            .unwrap();
        writer.finish().unwrap();
        out
    }

    #[test]
    fn a_png_is_decoded_and_written_again_as_rgba() {
        // GIVEN a small RGB PNG
        let upload = png_of(16, 8);
        // WHEN it is re-encoded
        let png = reencode(&upload).unwrap();
        // THEN the result is another PNG, 16×8 RGBA
        assert_ne!(png, upload);
        let reader = png::Decoder::new(Cursor::new(&png)).read_info().unwrap();
        assert_eq!((reader.info().width, reader.info().height), (16, 8));
        assert_eq!(reader.info().color_type, png::ColorType::Rgba);
    }

    #[test]
    fn a_lossless_webp_is_accepted() {
        // GIVEN a 1×1 lossless WebP (a known-good file from the WebP test suite's shape)
        let webp = image_webp_1x1();
        // WHEN it is re-encoded  THEN a 1×1 PNG comes out
        let png = reencode(&webp).unwrap();
        let reader = png::Decoder::new(Cursor::new(&png)).read_info().unwrap();
        assert_eq!((reader.info().width, reader.info().height), (1, 1));
    }

    fn image_webp_1x1() -> Vec<u8> {
        let mut out = Vec::new();
        image_webp::WebPEncoder::new(&mut out)
            .encode(&[200, 10, 10], 1, 1, image_webp::ColorType::Rgb8)
            .unwrap();
        out
    }

    #[test]
    fn an_svg_a_truncated_png_and_an_oversized_file_are_refused() {
        // GIVEN an SVG, a PNG cut in half, a 65 KiB file and a too-wide PNG
        let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"/>"#;
        let whole = png_of(16, 16);
        let cut = &whole[..whole.len() / 2];
        let big = vec![0u8; 65 * 1024];
        let wide = png_of(MAX_LOGO_SIDE + 1, 1);
        // THEN each is refused for its own reason
        assert_eq!(reencode(svg), Err(LogoError::Unsupported));
        assert!(matches!(reencode(cut), Err(LogoError::Malformed(_))));
        assert_eq!(reencode(&big), Err(LogoError::TooLarge(65 * 1024)));
        assert_eq!(
            reencode(&wide),
            Err(LogoError::Dimensions(MAX_LOGO_SIDE + 1, 1))
        );
    }
}
