#include "harness/run_files.h"

#include <openssl/evp.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>

#include <fmt/format.h>

namespace ys {

samples_writer::samples_writer(const std::filesystem::path& path) : path_(path) {
  file_ = std::fopen(path.c_str(), "ab");
  if (file_ == nullptr)
    throw input_error(fmt::format("{}: cannot open for writing", path.string()));
}

samples_writer::~samples_writer() {
  if (file_ != nullptr) std::fclose(file_);
}

void samples_writer::append(const sample_result& result) {
  const std::string line =
      to_json(result).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::lock_guard lock(mutex_);
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fflush(file_);
}

std::vector<sample_result> read_samples(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw input_error(fmt::format("{}: cannot open", path.string()));
  std::vector<sample_result> results;
  std::string line;
  std::size_t line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty()) continue;
    const bool last_line = in.peek() == std::char_traits<char>::eof();
    auto parsed = nlohmann::json::parse(line, nullptr, false);
    if (parsed.is_discarded()) {
      if (last_line) break;  // a run killed mid-write leaves at most one partial line, at the end
      throw input_error(path.string(), line_number, "", "not valid JSON");
    }
    try {
      results.push_back(sample_result_from_json(parsed));
    } catch (const input_error& e) {
      throw input_error(path.string(), line_number, "", e.what());
    }
  }
  return results;
}

void rewrite_samples(const std::filesystem::path& path, const std::vector<sample_result>& results) {
  const auto temporary = std::filesystem::path(path.string() + ".tmp");
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) throw input_error(fmt::format("{}: cannot write", temporary.string()));
    for (const auto& r : results) {
      out << to_json(r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    }
  }
  std::filesystem::rename(temporary, path);
}

void write_json_file(const std::filesystem::path& path, const nlohmann::json& value) {
  const auto temporary = std::filesystem::path(path.string() + ".tmp");
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) throw input_error(fmt::format("{}: cannot write", temporary.string()));
    out << value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  }
  std::filesystem::rename(temporary, path);
}

std::string read_text_file(const std::filesystem::path& path, std::string_view what) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw input_error(fmt::format("{}: cannot open {}: is a directory", path.string(), what));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const auto reason = std::filesystem::exists(path, ec) ? "cannot be read" : "no such file";
    throw input_error(fmt::format("{}: cannot open {}: {}", path.string(), what, reason));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string text_sha256(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr) != 1) return "";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i)
    hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

std::size_t line_at(const std::string& text, std::size_t offset) {
  const auto end = text.begin() + static_cast<std::ptrdiff_t>(std::min(offset, text.size()));
  return 1 + static_cast<std::size_t>(std::count(text.begin(), end, '\n'));
}

std::string file_sha256(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                  &EVP_MD_CTX_free);
  if (!context || EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1) return "";
  std::vector<char> buffer(1 << 16);
  while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0) {
    EVP_DigestUpdate(context.get(), buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(context.get(), digest, &length) != 1) return "";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i)
    hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

nlohmann::json read_json_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw input_error(fmt::format("{}: cannot open", path.string()));
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw input_error(fmt::format("{}: not valid JSON ({})", path.string(), e.what()));
  }
}

}  // namespace ys
