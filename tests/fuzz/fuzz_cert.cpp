// inkan fuzz target: certificate parsing and the registry extension decoders.
//
// Everything here takes bytes from outside (a card, a portal, a file): it must
// never crash, hang or read out of bounds, whatever the input.
//
// libFuzzer (clang, with ASan and UBSan): `make fuzz` (scripts/fuzz.sh) builds and runs it.
// Without libFuzzer: the replay driver (tests/fuzz/replay_driver.cpp), built by
// CMake as fuzz_cert_replay and run over tests/fuzz/seeds/cert/ by ctest (fuzz.replay).
// Seeds: tests/fuzz/seeds/cert/ (certificates of tests/pki/make-test-pki.sh).
#include <cstddef>
#include <cstdint>
#include <span>

#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/cert/certificate.hpp"
#include "daemon/cert/registry_extensions.hpp"
#include "daemon/cert/utf8.hpp"
#include "daemon/error.hpp"

namespace {

// The promise of daemon/cert/: every string it hands out is valid UTF-8 with no
// control characters. Break it and the fuzzer reports a crash.
void requireClean(std::string_view text) {
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto c = inkan::cert::utf8::next(text, pos);
        if (!c || inkan::cert::utf8::isControl(*c)) std::abort();
    }
}

void requireCleanOptional(const std::optional<std::string>& text) {
    if (text) requireClean(*text);
}

void requireCleanList(const std::vector<std::string>& texts) {
    for (const auto& t : texts) requireClean(t);
}

void requireCleanPolicies(const std::vector<inkan::cert::PolicyInfo>& policies) {
    for (const auto& p : policies) requireCleanList(p.notices);
}

void requireCleanCorporation(const inkan::cert::RegisteredCorporationInfo& c) {
    for (const auto* field : {&c.corporateName, &c.registeredNumber, &c.headOffice, &c.representativeName,
                              &c.representativeTitle, &c.registryOffice}) {
        requireCleanOptional(*field);
    }
}

void requireCleanInfo(const inkan::cert::CertificateInfo& info) {
    requireClean(info.subject);
    requireClean(info.issuer);
    requireClean(info.subjectCommonName);
    requireCleanPolicies(info.certificatePolicies);
    requireCleanPolicies(info.registry.certificatePoliciesJP);
    requireCleanOptional(info.registry.registrar);
    if (info.registry.corporation) requireCleanCorporation(*info.registry.corporation);
    const auto& san = info.subjectAltNames;
    for (const auto* list : {&san.email, &san.dns, &san.uri, &san.ip, &san.directoryName}) requireCleanList(*list);
    for (const auto& other : san.otherName) requireClean(other.value);
    requireCleanList(info.ocspUrls);
    requireCleanList(info.crlUrls);
    requireCleanList(info.caIssuersUrls);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> input(data, size);

    // The whole input as a certificate: the path every card and API caller takes.
    try {
        const auto info = inkan::cert::parseCertificate(input);
        requireCleanInfo(info);
        (void)inkan::cert::expiryOf(info, std::chrono::system_clock::now());
    } catch (const inkan::Error&) {
        // BadRequest for non-certificates is the expected outcome.
    }

    // The same bytes straight into each extension decoder, so the fuzzer need
    // not first build a signed-looking certificate to reach them.
    if (const auto corporation = inkan::cert::registry::decodeRegisteredCorporationInfo(input)) {
        requireCleanCorporation(*corporation);
    }
    requireCleanOptional(inkan::cert::registry::decodeRegistrar(input));
    if (const auto policies = inkan::cert::registry::decodePolicies(input)) {
        requireCleanPolicies(*policies);
    }
    return 0;
}
