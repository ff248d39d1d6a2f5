// tokenize_cases: llama.cpp's test-tokenizer-0 protocol on any vocabulary, to
// make test vectors for one the llama.cpp tree ships none for. Reads texts
// separated by "\n__ggml_vocab_test__\n" from a file and prints, one line per
// text, the ids libllama gives (no BOS, special tokens not parsed), each
// preceded by a space, as the .out files llama.cpp writes.
//
// usage: km-tokenize-cases VOCAB.gguf CASES.inp > CASES.out
#include <llama.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: km-tokenize-cases VOCAB.gguf CASES.inp\n");
    return 2;
  }
  llama_log_set([](ggml_log_level, const char*, void*) {}, nullptr);
  llama_backend_init();
  llama_model_params mp = llama_model_default_params();
  mp.vocab_only = true;
  llama_model* model = llama_model_load_from_file(argv[1], mp);
  if (!model) {
    std::fprintf(stderr, "km-tokenize-cases: cannot load %s\n", argv[1]);
    return 1;
  }
  const llama_vocab* vocab = llama_model_get_vocab(model);
  std::ifstream f(argv[2], std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string inp = ss.str(), sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  for (size_t pos = 0; pos < inp.size();) {
    const size_t next = inp.find(sep, pos);
    if (next == std::string::npos) {
      texts.push_back(inp.substr(pos));
      break;
    }
    texts.push_back(inp.substr(pos, next - pos));
    pos = next + sep.size();
  }
  for (const std::string& t : texts) {
    std::vector<llama_token> ids(t.size() + 8);
    int n = llama_tokenize(vocab, t.data(), (int32_t)t.size(), ids.data(), (int32_t)ids.size(), false, false);
    if (n < 0) {
      ids.resize((size_t)-n);
      n = llama_tokenize(vocab, t.data(), (int32_t)t.size(), ids.data(), (int32_t)ids.size(), false, false);
    }
    for (int i = 0; i < n; i++) std::printf(" %d", ids[(size_t)i]);
    std::printf("\n");
  }
  llama_model_free(model);
  return 0;
}
