#include "felis/study/report.h"

#include "felis/error.h"
#include "felis/io/atomic_file.h"

#include <spdlog/fmt/fmt.h>

#include <cstdint>
#include <string>
#include <variant>

namespace felis {

namespace {

// Inline, because the Content-Security-Policy below forbids external styles. Sizes are in
// rem so that the page follows the reader's font size.
constexpr std::string_view kStyle = R"css(
:root { color-scheme: light; }
body {
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Liberation Sans",
    "DejaVu Sans", Arial, sans-serif;
  font-size: 1rem; line-height: 1.55; color: #1f2328; background: #fff;
  max-width: 1000px; margin: 0 auto; padding: 2rem 1.5rem 4rem;
}
h1 { font-size: 1.9rem; line-height: 1.25; margin: 0 0 1rem; }
h2 { font-size: 1.35rem; margin: 2.5rem 0 0.75rem; padding-bottom: 0.25rem;
     border-bottom: 1px solid #d8dee4; }
p { margin: 0 0 0.9rem; }
.question { font-size: 1.15rem; color: #393f46; }
.findings { padding-left: 1.25rem; }
.findings li { margin-bottom: 0.5rem; }
.spread { color: #656d76; font-size: 0.875rem; white-space: nowrap; }
nav.toc { background: #f6f8fa; border: 1px solid #d8dee4; border-radius: 6px;
          padding: 0.75rem 1.25rem; margin: 1.5rem 0; }
nav.toc h2 { font-size: 1rem; margin: 0 0 0.25rem; border: 0; padding: 0; }
nav.toc ol { margin: 0; padding-left: 1.25rem; }
a { color: #0969da; text-decoration: none; }
a:hover { text-decoration: underline; }
table { border-collapse: collapse; margin: 1rem 0 1.5rem; font-size: 0.95rem; }
caption { caption-side: top; text-align: left; font-weight: 600; padding-bottom: 0.4rem; }
th, td { padding: 0.3rem 0.75rem; border-bottom: 1px solid #d8dee4; text-align: left;
         vertical-align: top; }
th { border-bottom: 2px solid #afb8c1; font-weight: 600; }
.number { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
figure { margin: 1.25rem 0 1.75rem; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid #eaeef2; }
figcaption { color: #393f46; font-size: 0.9rem; margin-top: 0.4rem; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; color: #000; }
  nav.toc { display: none; }
  a { color: inherit; }
  h2 { break-after: avoid; }
  table, figure, .findings li { break-inside: avoid; }
  figure img { border: 0; }
}
)css";

// Counts the images that decoded, once every one has loaded or failed, so a test can read
// the counts from <body> in the DOM after the load event.
constexpr std::string_view kScript = R"js(
window.addEventListener('load', function () {
  var images = document.images;
  var loaded = 0;
  for (var i = 0; i < images.length; i++) {
    if (images[i].complete && images[i].naturalWidth > 0) loaded++;
  }
  document.body.setAttribute('data-images-total', String(images.length));
  document.body.setAttribute('data-images-loaded', String(loaded));
});
)js";

// Images only from data: URIs, and styles and scripts only inline, so nothing is fetched.
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'";

std::string_view trimmed(std::string_view text) {
  const size_t begin = text.find_first_not_of(' ');
  if (begin == std::string_view::npos) return {};
  const size_t end = text.find_last_not_of(' ');
  return text.substr(begin, end - begin + 1);
}

void check_table(const ReportTable& table, size_t section_index) {
  if (table.header.empty()) {
    throw Error(fmt::format("report section {}: table '{}' has no header row; give one cell per "
                            "column",
                            section_index + 1, table.caption));
  }
  for (size_t r = 0; r < table.rows.size(); ++r) {
    if (table.rows[r].size() != table.header.size()) {
      throw Error(fmt::format("report section {}: table '{}' row {} has {} cells but the header "
                              "has {}; give every row one cell per column",
                              section_index + 1, table.caption, r + 1, table.rows[r].size(),
                              table.header.size()));
    }
  }
}

// True when `bytes` start as a file of `mime_type` does: the PNG signature, the JPEG start
// of image marker, or an <svg element within the text.
bool matches_mime_type(const std::vector<char>& bytes, std::string_view mime_type) {
  const std::string_view text(bytes.data(), bytes.size());
  if (mime_type == "image/png") return text.starts_with("\x89PNG\r\n\x1a\n");
  if (mime_type == "image/jpeg") return text.starts_with("\xff\xd8\xff");
  if (mime_type == "image/svg+xml") return text.find("<svg") != std::string_view::npos;
  return false;
}

void check_figure(const ReportFigure& figure, size_t section_index) {
  if (figure.bytes.empty()) {
    throw Error(fmt::format("report section {}: figure '{}' has no image bytes; give the image "
                            "file's content",
                            section_index + 1, figure.caption));
  }
  if (figure.mime_type != "image/png" && figure.mime_type != "image/jpeg" &&
      figure.mime_type != "image/svg+xml") {
    throw Error(fmt::format("report section {}: figure '{}' has MIME type '{}'; use image/png, "
                            "image/jpeg or image/svg+xml",
                            section_index + 1, figure.caption, figure.mime_type));
  }
  if (!matches_mime_type(figure.bytes, figure.mime_type)) {
    throw Error(fmt::format("report section {}: figure '{}' is not a valid {} file; check that "
                            "the MIME type matches the bytes",
                            section_index + 1, figure.caption, figure.mime_type));
  }
}

std::string render_finding(const ReportFinding& finding) {
  std::string html = "<li>" + escape_html(finding.sentence);
  if (finding.seeds > 0) {
    std::string note = fmt::format("{} {}", finding.seeds, finding.seeds == 1 ? "seed" : "seeds");
    if (!finding.spread.empty()) note += ", spread " + finding.spread;
    html += " <span class=\"spread\">(" + escape_html(note) + ")</span>";
  }
  return html + "</li>\n";
}

std::string render_table(const ReportTable& table) {
  // A column is numeric when it has rows and every body cell in it is numeric.
  std::vector<bool> numeric_column(table.header.size(), !table.rows.empty());
  for (const auto& row : table.rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      if (!is_numeric_cell(row[c])) numeric_column[c] = false;
    }
  }

  std::string html = "<table>\n";
  if (!table.caption.empty()) html += "<caption>" + escape_html(table.caption) + "</caption>\n";
  html += "<thead><tr>";
  for (size_t c = 0; c < table.header.size(); ++c) {
    html += numeric_column[c] ? "<th scope=\"col\" class=\"number\">" : "<th scope=\"col\">";
    html += escape_html(table.header[c]) + "</th>";
  }
  html += "</tr></thead>\n<tbody>\n";
  for (const auto& row : table.rows) {
    html += "<tr>";
    for (const auto& cell : row) {
      html += is_numeric_cell(cell) ? "<td class=\"number\">" : "<td>";
      html += escape_html(cell) + "</td>";
    }
    html += "</tr>\n";
  }
  return html + "</tbody>\n</table>\n";
}

std::string render_figure(const ReportFigure& figure, int number) {
  const std::string_view bytes(figure.bytes.data(), figure.bytes.size());
  // The data: URI needs no escaping, because check_figure allows three fixed MIME types and
  // base64 uses no quote.
  std::string html = "<figure>\n<img src=\"data:" + figure.mime_type + ";base64,";
  html += base64_encode(bytes);
  html += "\" alt=\"" + escape_html(figure.alt_text) + "\">\n";
  html += fmt::format("<figcaption><strong>Figure {}.</strong> {}</figcaption>\n", number,
                      escape_html(figure.caption));
  return html + "</figure>\n";
}

std::string section_id(size_t index) { return fmt::format("section-{}", index + 1); }

// Renders one section. `figure_number` is the number of the previous figure in the report.
std::string render_section(const ReportSection& section, size_t index, int& figure_number) {
  std::string html = "<section id=\"" + section_id(index) + "\">\n";
  html += "<h2>" + escape_html(section.heading) + "</h2>\n";
  for (const auto& block : section.blocks) {
    if (const auto* paragraph = std::get_if<ReportParagraph>(&block)) {
      html += "<p>" + escape_html(paragraph->text) + "</p>\n";
    } else if (const auto* table = std::get_if<ReportTable>(&block)) {
      html += render_table(*table);
    } else {
      html += render_figure(std::get<ReportFigure>(block), ++figure_number);
    }
  }
  return html + "</section>\n";
}

std::string render_contents(const Report& report) {
  std::string html = "<nav class=\"toc\" aria-label=\"Contents\">\n<h2>Contents</h2>\n<ol>\n";
  for (size_t i = 0; i < report.sections.size(); ++i) {
    html += "<li><a href=\"#" + section_id(i) + "\">" + escape_html(report.sections[i].heading) +
            "</a></li>\n";
  }
  return html + "</ol>\n</nav>\n";
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);

  // Each group of 3 bytes (24 bits) becomes 4 characters of 6 bits each, most significant
  // first. A last group of 1 or 2 bytes is padded with zero bits and then '='.
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t group = uint32_t{static_cast<unsigned char>(bytes[i])} << 16 |
                           uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8 |
                           uint32_t{static_cast<unsigned char>(bytes[i + 2])};
    out += kAlphabet[group >> 18 & 63];
    out += kAlphabet[group >> 12 & 63];
    out += kAlphabet[group >> 6 & 63];
    out += kAlphabet[group & 63];
  }
  const size_t remaining = bytes.size() - i;
  if (remaining == 1) {
    const uint32_t group = uint32_t{static_cast<unsigned char>(bytes[i])} << 16;
    out += kAlphabet[group >> 18 & 63];
    out += kAlphabet[group >> 12 & 63];
    out += "==";
  } else if (remaining == 2) {
    const uint32_t group = uint32_t{static_cast<unsigned char>(bytes[i])} << 16 |
                           uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8;
    out += kAlphabet[group >> 18 & 63];
    out += kAlphabet[group >> 12 & 63];
    out += kAlphabet[group >> 6 & 63];
    out += '=';
  }
  return out;
}

std::string escape_html(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      case '\t':
      case '\n':
      case '\r': out += c; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          out += "\xef\xbf\xbd";  // U+FFFD REPLACEMENT CHARACTER in UTF-8
        } else {
          out += c;
        }
    }
  }
  return out;
}

bool is_numeric_cell(std::string_view cell) {
  constexpr std::string_view kPlusMinus = "\xc2\xb1";  // ± in UTF-8
  constexpr std::string_view kEnDash = "\xe2\x80\x93";  // – in UTF-8
  const std::string_view text = trimmed(cell);
  bool has_digit = false;
  for (size_t i = 0; i < text.size();) {
    const std::string_view rest = text.substr(i);
    if (rest.starts_with(kPlusMinus)) {
      i += kPlusMinus.size();
      continue;
    }
    if (rest.starts_with(kEnDash)) {
      i += kEnDash.size();
      continue;
    }
    const char c = text[i];
    if (c >= '0' && c <= '9') {
      has_digit = true;
    } else if (std::string_view(" +-.,%()/x").find(c) == std::string_view::npos) {
      return false;
    }
    ++i;
  }
  return has_digit;
}

std::string render_report_html(const Report& report) {
  for (size_t s = 0; s < report.sections.size(); ++s) {
    for (const auto& block : report.sections[s].blocks) {
      if (const auto* table = std::get_if<ReportTable>(&block)) check_table(*table, s);
      if (const auto* figure = std::get_if<ReportFigure>(&block)) check_figure(*figure, s);
    }
  }

  std::string html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  html += fmt::format("<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n",
                      kContentSecurityPolicy);
  html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  html += "<title>" + escape_html(report.title) + "</title>\n";
  html += fmt::format("<style>{}</style>\n<script>{}</script>\n</head>\n<body>\n", kStyle,
                      kScript);

  html += "<header>\n<h1>" + escape_html(report.title) + "</h1>\n";
  if (!report.question.empty()) {
    html += "<p class=\"question\">" + escape_html(report.question) + "</p>\n";
  }
  html += "</header>\n";

  if (!report.findings.empty()) {
    html += "<section id=\"findings\">\n<h2>Findings</h2>\n<ul class=\"findings\">\n";
    for (const auto& finding : report.findings) html += render_finding(finding);
    html += "</ul>\n</section>\n";
  }
  if (!report.sections.empty()) html += render_contents(report);

  int figure_number = 0;
  for (size_t s = 0; s < report.sections.size(); ++s) {
    html += render_section(report.sections[s], s, figure_number);
  }
  return html + "</body>\n</html>\n";
}

void write_report_html(const Report& report, const std::filesystem::path& file) {
  const std::string html = render_report_html(report);
  AtomicFile out(file);
  out.write(std::vector<char>(html.begin(), html.end()));
  out.commit();
}

}  // namespace felis
