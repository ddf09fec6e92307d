// The HTML report: base64 against RFC 4648's vectors, escaping, the rendered page's
// content, and that it refers to nothing outside itself.
#include "felis/study/report.h"

#include "felis/error.h"

#include "data/fixtures.h"

#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

namespace felis {
namespace {

using fixtures::contains;
using fixtures::error_message;

// A minimal PNG signature followed by filler: enough for the renderer, which checks only
// how the bytes start. The browser test embeds real PNG files.
std::vector<char> png_like_bytes() {
  const std::string bytes = std::string("\x89PNG\r\n\x1a\n", 8) + "rest of the file";
  return {bytes.begin(), bytes.end()};
}

std::vector<char> svg_bytes() {
  const std::string text =
      "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" "
      "height=\"10\"><rect width=\"10\" height=\"10\"/></svg>\n";
  return {text.begin(), text.end()};
}

Report sample_report() {
  return {
      .title = "Why logistic regression works on cats & dogs",
      .question = "How much of a <cat> is in its pixels?",
      .findings = {{.sentence = "Logistic regression reaches 70.0 % test accuracy.",
                    .seeds = 5,
                    .spread = "66-74 %"},
                   {.sentence = "A shift of 4 pixels costs 11 points.", .seeds = 1}},
      .sections =
          {{.heading = "Separability",
            .blocks = {ReportParagraph{"The training set is linearly separable."},
                       ReportTable{.caption = "Accuracy by model",
                                   .header = {"model", "test accuracy"},
                                   .rows = {{"logreg", "70.00 %"}, {"cnn", "82.4 (78-86)"}}},
                       ReportFigure{.bytes = png_like_bytes(),
                                    .mime_type = "image/png",
                                    .caption = "Margins of the training images",
                                    .alt_text = "A histogram of margins"}}},
           {.heading = "Shifts and tints",
            .blocks = {ReportFigure{.bytes = svg_bytes(),
                                    .mime_type = "image/svg+xml",
                                    .caption = "Accuracy as the shift grows",
                                    .alt_text = "A falling line"}}}}};
}

size_t count_of(const std::string& text, const std::string& part) {
  size_t count = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) {
    ++count;
  }
  return count;
}

TEST(ReportBase64, Rfc4648Vectors) {
  // RFC 4648, section 10.
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
}

TEST(ReportBase64, HighBytesAndZeros) {
  // Bytes above 0x7f must be read as unsigned, and zero bytes are data, not terminators.
  EXPECT_EQ(base64_encode(std::string("\xff\xff\xff", 3)), "////");
  EXPECT_EQ(base64_encode(std::string("\xfb\xff", 2)), "+/8=");
  EXPECT_EQ(base64_encode(std::string("\x00\x00\x00\x00", 4)), "AAAAAA==");
  EXPECT_EQ(base64_encode(std::string("\x14\xfb\x9c\x03\xd9\x7e", 6)), "FPucA9l+");
}

TEST(ReportEscape, SpecialCharacters) {
  EXPECT_EQ(escape_html("a < b > c & d"), "a &lt; b &gt; c &amp; d");
  EXPECT_EQ(escape_html("\"double\" 'single'"), "&quot;double&quot; &#39;single&#39;");
  EXPECT_EQ(escape_html("&amp;"), "&amp;amp;");
  EXPECT_EQ(escape_html("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;");
}

TEST(ReportEscape, KeepsUtf8AndReplacesControls) {
  EXPECT_EQ(escape_html("84 \xc2\xb1 2 %"), "84 \xc2\xb1 2 %");
  EXPECT_EQ(escape_html("tab\tand\nline"), "tab\tand\nline");
  EXPECT_EQ(escape_html(std::string("a\x01" "b\x00" "c", 5)), "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c");
}

TEST(ReportNumericCell, Cases) {
  for (const char* cell : {"70.00 %", "-0.25", "1,024", "84.4 (84.2-84.5)", " 12 ", "3x3",
                           "45/50", "84 \xc2\xb1 2", "66\xe2\x80\x93" "74 %"}) {
    EXPECT_TRUE(is_numeric_cell(cell)) << cell;
  }
  for (const char* cell : {"", " ", "%", "logreg", "hier3", "2,650 images/s", "n/a", "-"}) {
    EXPECT_FALSE(is_numeric_cell(cell)) << cell;
  }
}

TEST(ReportRender, ContainsHeadingsFindingsAndCells) {
  const std::string html = render_report_html(sample_report());
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>"));
  EXPECT_TRUE(contains(html, "<title>Why logistic regression works on cats &amp; dogs</title>"));
  EXPECT_TRUE(contains(html, "<h1>Why logistic regression works on cats &amp; dogs</h1>"));
  EXPECT_TRUE(contains(html, "How much of a &lt;cat&gt; is in its pixels?"));
  EXPECT_FALSE(contains(html, "<cat>"));

  EXPECT_TRUE(contains(html, "<h2>Separability</h2>"));
  EXPECT_TRUE(contains(html, "<h2>Shifts and tints</h2>"));
  EXPECT_TRUE(contains(html, "The training set is linearly separable."));

  EXPECT_TRUE(contains(html, "Logistic regression reaches 70.0 % test accuracy."));
  EXPECT_TRUE(contains(html, "(5 seeds, spread 66-74 %)"));
  EXPECT_TRUE(contains(html, "A shift of 4 pixels costs 11 points."));
  EXPECT_TRUE(contains(html, "(1 seed)"));

  EXPECT_TRUE(contains(html, "<caption>Accuracy by model</caption>"));
  EXPECT_TRUE(contains(html, "<td>logreg</td>"));
  EXPECT_TRUE(contains(html, "<td class=\"number\">70.00 %</td>"));
  EXPECT_TRUE(contains(html, "<td class=\"number\">82.4 (78-86)</td>"));
  EXPECT_TRUE(contains(html, "<th scope=\"col\">model</th>"));
  EXPECT_TRUE(contains(html, "<th scope=\"col\" class=\"number\">test accuracy</th>"));

  EXPECT_TRUE(contains(html, "alt=\"A histogram of margins\""));
  EXPECT_TRUE(contains(html, "<strong>Figure 1.</strong> Margins of the training images"));
  EXPECT_TRUE(contains(html, "<strong>Figure 2.</strong> Accuracy as the shift grows"));
}

TEST(ReportRender, TableOfContentsLinksSections) {
  const std::string html = render_report_html(sample_report());
  EXPECT_TRUE(contains(html, "<a href=\"#section-1\">Separability</a>"));
  EXPECT_TRUE(contains(html, "<a href=\"#section-2\">Shifts and tints</a>"));
  EXPECT_TRUE(contains(html, "<section id=\"section-1\">"));
  EXPECT_TRUE(contains(html, "<section id=\"section-2\">"));
}

TEST(ReportRender, DataUriPerFigure) {
  const std::string html = render_report_html(sample_report());
  const std::vector<char> png_bytes = png_like_bytes();
  const std::vector<char> svg_text = svg_bytes();
  const std::string png(png_bytes.begin(), png_bytes.end());
  const std::string svg(svg_text.begin(), svg_text.end());
  EXPECT_EQ(count_of(html, "<img "), 2u);
  EXPECT_EQ(count_of(html, "src=\"data:image/png;base64," + base64_encode(png) + "\""), 1u);
  EXPECT_EQ(count_of(html, "src=\"data:image/svg+xml;base64," + base64_encode(svg) + "\""), 1u);
}

TEST(ReportRender, NoExternalReferences) {
  const std::string html = render_report_html(sample_report());
  EXPECT_FALSE(contains(html, "http://"));
  EXPECT_FALSE(contains(html, "https://"));
  EXPECT_FALSE(contains(html, "url("));
  EXPECT_FALSE(contains(html, "@import"));

  // Every src and href points into the page itself: a data: URI or a fragment.
  const std::regex attribute(R"re(\b(src|href)\s*=\s*"([^"]*)")re", std::regex::icase);
  size_t attributes = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), attribute);
       it != std::sregex_iterator(); ++it) {
    ++attributes;
    const std::string value = (*it)[2].str();
    EXPECT_TRUE(value.starts_with("data:") || value.starts_with("#"))
        << (*it)[1].str() << "=\"" << value.substr(0, 60) << "\"";
  }
  EXPECT_EQ(attributes, 4u);  // two figures and two contents links

  EXPECT_TRUE(contains(html, "default-src 'none'; img-src data:"));
}

TEST(ReportRender, ScriptSetsImageCounts) {
  const std::string html = render_report_html(sample_report());
  EXPECT_TRUE(contains(html, "data-images-total"));
  EXPECT_TRUE(contains(html, "data-images-loaded"));
  EXPECT_TRUE(contains(html, "naturalWidth > 0"));
}

TEST(ReportRender, EscapesEveryTextField) {
  const std::string attack = "<b>\"x\" & 'y'</b>";
  const std::string escaped = "&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;";
  const Report report{
      .title = attack,
      .question = attack,
      .findings = {{.sentence = attack, .seeds = 3, .spread = attack}},
      .sections = {{.heading = attack,
                    .blocks = {ReportParagraph{attack},
                               ReportTable{.caption = attack,
                                           .header = {attack},
                                           .rows = {{attack}}},
                               ReportFigure{.bytes = png_like_bytes(),
                                            .mime_type = "image/png",
                                            .caption = attack,
                                            .alt_text = attack}}}}};
  const std::string html = render_report_html(report);
  EXPECT_FALSE(contains(html, "<b>"));
  EXPECT_FALSE(contains(html, "\"x\""));
  // title, h1, question, finding, spread, contents link, heading, paragraph, caption,
  // header cell, body cell, alt text, figure caption
  EXPECT_EQ(count_of(html, escaped), 13u);
}

TEST(ReportRender, NoSectionsNoContents) {
  const std::string html = render_report_html({.title = "Empty", .question = "Nothing yet."});
  EXPECT_FALSE(contains(html, "<nav"));
  EXPECT_FALSE(contains(html, "Findings"));
  EXPECT_TRUE(contains(html, "<h1>Empty</h1>"));
}

TEST(ReportRender, RejectsRaggedTable) {
  Report report = sample_report();
  report.sections[0].blocks.push_back(
      ReportTable{.caption = "ragged", .header = {"a", "b"}, .rows = {{"1", "2"}, {"3"}}});
  const std::string message = error_message([&] { render_report_html(report); });
  EXPECT_TRUE(contains(message, "table 'ragged' row 2 has 1 cells but the header has 2"))
      << message;
}

TEST(ReportRender, RejectsTableWithoutHeader) {
  Report report = sample_report();
  report.sections[1].blocks.push_back(ReportTable{.caption = "headless", .rows = {{"1"}}});
  const std::string message = error_message([&] { render_report_html(report); });
  EXPECT_TRUE(contains(message, "report section 2: table 'headless' has no header row"))
      << message;
}

TEST(ReportRender, RejectsBadFigures) {
  const auto message_for = [](ReportFigure figure) {
    Report report = sample_report();
    report.sections[0].blocks.push_back(std::move(figure));
    return error_message([&] { render_report_html(report); });
  };
  const std::string empty = message_for({.mime_type = "image/png", .caption = "empty"});
  EXPECT_TRUE(contains(empty, "figure 'empty' has no image bytes")) << empty;

  const std::string gif =
      message_for({.bytes = png_like_bytes(), .mime_type = "image/gif", .caption = "gif"});
  EXPECT_TRUE(contains(gif, "MIME type 'image/gif'")) << gif;

  const std::string mismatch =
      message_for({.bytes = svg_bytes(), .mime_type = "image/png", .caption = "svg as png"});
  EXPECT_TRUE(contains(mismatch, "figure 'svg as png' is not a valid image/png file"))
      << mismatch;
}

TEST(ReportWrite, WritesFileAtomically) {
  fixtures::TempDir dir;
  const auto file = dir / "index.html";
  write_report_html(sample_report(), file);
  const auto bytes = fixtures::read_bytes(file);
  const std::string expected = render_report_html(sample_report());
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), expected);
  // Only the report itself, no temporary file beside it.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()),
                          std::filesystem::directory_iterator()),
            1);
}

TEST(ReportWrite, FailureLeavesOldFile) {
  fixtures::TempDir dir;
  const auto file = dir / "index.html";
  fixtures::write_text(file, "old report");
  Report report = sample_report();
  report.sections[0].blocks.push_back(ReportTable{.caption = "broken"});
  EXPECT_THROW(write_report_html(report, file), Error);
  const auto bytes = fixtures::read_bytes(file);
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), "old report");

  EXPECT_THROW(write_report_html(sample_report(), dir / "missing" / "index.html"), Error);
  EXPECT_FALSE(std::filesystem::exists(dir / "missing"));
}

}  // namespace
}  // namespace felis
