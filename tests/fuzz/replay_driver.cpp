// inkan fuzz replay driver: runs a fuzz target (LLVMFuzzerTestOneInput, the
// libFuzzer entry point) without libFuzzer, so every build compiles the
// targets and `make test` runs them (ctest fuzz.replay).
//
// For each seed file: the seed itself, every prefix of it (truncated input is
// what a card pulled out mid-read or a cut-off request gives), and every byte
// replaced in turn by 00, FF and its bit-flip. Deterministic, so a failure is
// reproducible; a target reports a broken promise by aborting.
//
//   fuzz_cert_replay tests/fuzz/seeds/cert/*
//
// Real fuzzing, which explores far beyond this, is `make fuzz` (libFuzzer,
// clang; scripts/fuzz.sh).
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

constexpr std::uint8_t kMutations[] = {0x00, 0xFF};

std::size_t replay(std::vector<std::uint8_t> input)
{
    std::size_t runs = 0;
    const auto run = [&](const std::vector<std::uint8_t>& bytes) {
        LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
        ++runs;
    };
    run(input);
    for (std::size_t length = 0; length < input.size(); ++length) {
        run(std::vector<std::uint8_t>(input.begin(), input.begin() + static_cast<std::ptrdiff_t>(length)));
    }
    for (std::size_t at = 0; at < input.size(); ++at) {
        const std::uint8_t original = input[at];
        for (const std::uint8_t value : kMutations) {
            input[at] = value;
            run(input);
        }
        input[at] = static_cast<std::uint8_t>(~original);
        run(input);
        input[at] = original;
    }
    return runs;
}

}  // namespace

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::cerr << "usage: " << argv[0] << " SEED_FILE...\n";
        return 2;
    }
    for (int i = 1; i < argc; ++i) {
        std::ifstream in(argv[i], std::ios::binary);
        if (!in) {
            std::cerr << argv[i] << ": cannot read\n";
            return 2;
        }
        const std::vector<std::uint8_t> seed((std::istreambuf_iterator<char>(in)), {});
        std::cout << argv[i] << ": " << replay(seed) << " inputs ok\n";
    }
    return 0;
}
