#include "daemon/security/card_access.hpp"

#include <algorithm>
#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <utility>
#include <variant>

#include "daemon/error.hpp"
#include "daemon/security/card_holder.hpp"
#include "daemon/security/pin_guard.hpp"

namespace inkan::security {

namespace {

template <class T>
Outcome<T> failure(std::exception_ptr error)
{
    return Outcome<T>(std::in_place_index<1>, std::move(error));
}

template <class T>
Outcome<T> success(T value)
{
    return Outcome<T>(std::in_place_index<0>, std::move(value));
}

/// What the card said about a PIN attempt that counts against the origin.
bool isWrongPin(const std::exception_ptr& error)
{
    try {
        std::rethrow_exception(error);
    } catch (const Error& e) {
        return e.code() == ErrorCode::PinIncorrect || e.code() == ErrorCode::UnblockCodeIncorrect ||
               e.code() == ErrorCode::PinBlocked || e.code() == ErrorCode::UnblockCodeBlocked;
    } catch (...) {
        return false;
    }
}

std::string describeFailure(const std::exception_ptr& error)
{
    try {
        std::rethrow_exception(error);
    } catch (const Error& e) {
        std::string text(errorCodeName(e.code()));
        if (e.triesLeft) text += " (" + std::to_string(*e.triesLeft) + " tries left)";
        return text;
    } catch (...) {
        return "INTERNAL";
    }
}

Error missingField(std::string_view field)
{
    return Error(ErrorCode::BadRequest, "field '" + std::string(field) + "' is required");
}

}  // namespace

std::string_view standingName(AccessSummary::Standing standing)
{
    switch (standing) {
    case AccessSummary::Standing::LocalClient: return "local-client";
    case AccessSummary::Standing::Console: return "console";
    case AccessSummary::Standing::Allowlisted: return "allowlisted";
    case AccessSummary::Standing::Paired: return "paired";
    case AccessSummary::Standing::Unknown: return "unknown";
    }
    return "unknown";
}

// ---- one PIN operation at a time per card ---------------------------------------

/// FIFO of PIN operations per card. A job runs when it reaches the front and
/// holds its slot until the last copy of the slot is gone, however its
/// completion chain ends; then the next job of that card starts.
class CardAccess::CardQueue {
public:
    using Slot = std::shared_ptr<void>;
    using Job = std::function<void(Slot slot)>;

    void enter(const std::string& cardId, Job job)
    {
        bool first = false;
        {
            const std::lock_guard lock(mutex_);
            auto& queue = queues_[cardId];
            queue.push_back(std::move(job));
            first = queue.size() == 1;
        }
        if (first) start(cardId);
    }

private:
    void start(const std::string& cardId)
    {
        Job job;
        {
            const std::lock_guard lock(mutex_);
            job = queues_.at(cardId).front();
        }
        Slot slot(nullptr, [this, cardId](void*) { release(cardId); });
        job(std::move(slot));
    }

    void release(const std::string& cardId)
    {
        bool more = false;
        {
            const std::lock_guard lock(mutex_);
            auto it = queues_.find(cardId);
            it->second.pop_front();
            more = !it->second.empty();
            if (!more) queues_.erase(it);
        }
        if (more) start(cardId);
    }

    std::mutex mutex_;
    std::map<std::string, std::deque<Job>> queues_;
};

// ---- grants ------------------------------------------------------------------------

struct CardAccess::Grant {
    std::optional<OriginGrant> grant;  // allowlisted or paired; none for the local client
    bool paired = false;

    const OriginGrant* get() const { return grant ? &*grant : nullptr; }
};

CardAccess::Grant CardAccess::grantOf(const Principal& principal) const
{
    Grant result;
    if (principal.isLocal()) return result;
    if (const OriginGrant* allowlisted = options_.policy->allowlisted(principal.origin)) {
        result.grant = *allowlisted;
        return result;
    }
    if (options_.pairings) {
        result.grant = options_.pairings->grantFor(principal.origin);
        result.paired = result.grant.has_value();
    }
    return result;
}

// ---- the PIN operation in flight -----------------------------------------------------

enum class PinOperation { Verify, Change, Unblock, Sign };

namespace {

// The card's own rules for the value an operation spends a try of (the
// unblock code's for unblocking, else the PIN's), before anything reaches the card.
void checkCurrentValue(const PinSummary& pin, PinOperation operation, const Secret& value)
{
    if (operation != PinOperation::Unblock) {
        pin.format.check(value, "PIN");
    } else if (pin.unblockCodeFormat) {
        pin.unblockCodeFormat->check(value, "unblock code");
    }
}

// The PIN an operation is about (the key's for a signature); NotFound, or
// UnsupportedOperation for unblocking a PIN the card cannot unblock.
PinSummary pinFor(const CardSummary& card, PinOperation operation, const PinRequestOptions& options,
                  const std::optional<SignRequest>& signRequest)
{
    if (operation == PinOperation::Sign) return card.keyPin(signRequest ? signRequest->certificateId : std::nullopt);
    PinSummary pin = options.pinId ? card.pin(*options.pinId) : card.defaultPin();
    if (operation == PinOperation::Unblock && !pin.unblockCodeFormat) {
        throw Error(ErrorCode::UnsupportedOperation, "the card cannot unblock its " + pin.label +
                                                         ": it has no unblock code (the card's issuer resets it)");
    }
    return pin;
}

}  // namespace

struct CardAccess::PinFlow {
    PinFlow(Principal who, std::string id, PinOperation operationKind, PinRequestOptions requestOptions,
            std::optional<Secret> firstValue, std::optional<Secret> secondValue = std::nullopt)
        : principal(std::move(who)), cardId(std::move(id)), kind(operationKind), options(requestOptions),
          first(std::move(firstValue)), second(std::move(secondValue))
    {
    }

    Principal principal;
    std::string cardId;
    PinOperation kind = PinOperation::Verify;
    PinRequestOptions options;
    std::optional<Secret> first;   // the PIN, or the unblock code for Unblock
    std::optional<Secret> second;  // the new PIN (Change, Unblock)
    std::optional<SignRequest> signRequest;
    Completion<PinStatus> donePin;
    Completion<SignResult> doneSign;

    // Established on the way.
    Grant grant;
    PinSource source = PinSource::Request;
    CardSummary card;
    PinSummary pin;  // the PIN the operation is about
    std::shared_ptr<FailureLimiter::Attempt> attempt;
    CardQueue::Slot slot;
    std::atomic<bool> finished{false};

    Operation operation() const { return kind == PinOperation::Sign ? Operation::Sign : Operation::Pin; }

    /// The value the agent gets for `value`: it, or the PIN pad.
    PinInput input(std::optional<Secret>& value) const
    {
        if (source == PinSource::Pinpad) return PinInput::onPinpad();
        return PinInput(std::move(value.value()));
    }

    std::string_view what() const
    {
        switch (kind) {
        case PinOperation::Verify: return "verify PIN";
        case PinOperation::Change: return "change PIN";
        case PinOperation::Unblock: return "unblock PIN";
        case PinOperation::Sign: return "sign";
        }
        return "PIN";
    }

    /// Ends the flow once: settles the rate-limit attempt, frees the card's
    /// queue, wipes what is left of the secrets, then answers.
    template <class T>
    void finish(Outcome<T> outcome, Completion<T>& done)
    {
        if (finished.exchange(true)) return;
        if (attempt) {
            const auto* error = std::get_if<std::exception_ptr>(&outcome);
            attempt->settle(error && isWrongPin(*error));
            attempt.reset();
        }
        first.reset();
        second.reset();
        signRequest.reset();
        slot.reset();
        auto callback = std::move(done);
        done = nullptr;
        if (callback) callback(std::move(outcome));
    }

    void fail(std::exception_ptr error)
    {
        if (kind == PinOperation::Sign) finish(failure<SignResult>(std::move(error)), doneSign);
        else finish(failure<PinStatus>(std::move(error)), donePin);
    }
};

// ---- construction -----------------------------------------------------------------------

CardAccess::CardAccess(CardAgent& agent, CardAccessOptions options)
    : agent_(agent), options_(std::move(options)),
      wrongPins_(options_.policy->settings().pinRateLimitAttempts, options_.policy->settings().pinRateLimitWindow),
      verifiedPins_(options_.now ? options_.now : VerifiedPins::Now(VerifiedPins::Clock::now)),
      queue_(std::make_unique<CardQueue>())
{
}

CardAccess::~CardAccess() = default;

void CardAccess::note(const Principal& principal, const std::string& cardId, std::string_view what) const
{
    if (!options_.log) return;
    const std::string who = principal.isLocalClient() ? std::string("local client")
                            : principal.kind == Principal::Kind::Console ? "console " + principal.origin
                                                                          : "origin " + principal.origin;
    options_.log(who + ": card " + cardId + ": " + std::string(what));
}

void CardAccess::claim(const Principal& principal, const std::string& cardId, std::function<void(std::exception_ptr)> next)
{
    if (!verifiedPins_.mustEndFor(cardId, PinHolder::of(principal))) {
        next(nullptr);
        return;
    }
    // Whoever verified the PIN does not get to keep the card verified across
    // someone else's operation (or past the window): reset it first.
    note(principal, cardId, "the PIN verified before is not this caller's: ending it on the card first");
    agent_.endPinVerification(cardId, [next = std::move(next)](Outcome<std::monostate> outcome) {
        auto* error = std::get_if<std::exception_ptr>(&outcome);
        next(error ? *error : nullptr);
    });
}

AccessSummary CardAccess::describe(const Principal& principal) const
{
    AccessSummary summary;
    summary.pinGuardThreshold = options_.policy->settings().pinGuardThreshold;
    if (principal.isLocal()) {
        summary.standing = principal.isLocalClient() ? AccessSummary::Standing::LocalClient : AccessSummary::Standing::Console;
        summary.operations = OperationSet::all();
        summary.mayAcknowledgeLowTries = options_.policy->mayAcknowledgeLowTries(principal, nullptr);
        return summary;
    }
    const Grant grant = grantOf(principal);
    if (!grant.grant) return summary;
    summary.standing = grant.paired ? AccessSummary::Standing::Paired : AccessSummary::Standing::Allowlisted;
    summary.operations = grant.grant->operations;
    summary.cards = grant.grant->cards;
    summary.pinSource = options_.policy->pinSource(principal, grant.get(), grant.paired);
    summary.mayAcknowledgeLowTries = options_.policy->mayAcknowledgeLowTries(principal, grant.get());
    return summary;
}

// ---- reading ------------------------------------------------------------------------------

void CardAccess::cards(const Principal& principal, Completion<std::vector<CardSummary>> done)
{
    agent_.cards([this, principal, done = std::move(done)](Outcome<std::vector<CardSummary>> outcome) {
        if (auto* error = std::get_if<std::exception_ptr>(&outcome)) return done(failure<std::vector<CardSummary>>(*error));
        const Grant grant = grantOf(principal);
        std::vector<CardSummary> visible;
        for (auto& card : std::get<0>(outcome)) {
            const CardVerdict verdict = options_.policy->verdict(principal, grant.get(), card);
            if (!verdict.visible) continue;
            card.blockedByPolicy = verdict.blocked;
            visible.push_back(std::move(card));
        }
        done(success(std::move(visible)));
    });
}

void CardAccess::status(const Principal& principal, Completion<AgentStatus> done)
{
    // The reader list names card ids: only those the principal may read stay.
    cards(principal, [this, done = std::move(done)](Outcome<std::vector<CardSummary>> cardsOutcome) {
        if (auto* error = std::get_if<std::exception_ptr>(&cardsOutcome)) return done(failure<AgentStatus>(*error));
        auto visible = std::get<0>(std::move(cardsOutcome));
        agent_.status([visible = std::move(visible), done](Outcome<AgentStatus> outcome) {
            if (auto* error = std::get_if<std::exception_ptr>(&outcome)) return done(failure<AgentStatus>(*error));
            AgentStatus status = std::get<0>(std::move(outcome));
            for (auto& reader : status.readers) {
                if (!reader.cardId) continue;
                const auto card = std::find_if(visible.begin(), visible.end(),
                                               [&](const CardSummary& c) { return c.id == *reader.cardId; });
                if (card == visible.end()) {
                    reader.cardId.reset();
                } else {
                    reader.blockedByPolicy = card->blockedByPolicy;
                }
            }
            done(success(std::move(status)));
        });
    });
}

void CardAccess::authorize(const Principal& principal, const std::string& cardId, Operation operation,
                           Completion<CardSummary> done)
{
    agent_.card(cardId, [this, principal, operation, cardId, done = std::move(done)](Outcome<CardSummary> outcome) {
        if (auto* error = std::get_if<std::exception_ptr>(&outcome)) return done(failure<CardSummary>(*error));
        try {
            const Grant grant = grantOf(principal);
            options_.policy->require(principal, grant.get(), std::get<0>(outcome), operation);
        } catch (const Error& e) {
            note(principal, cardId, std::string(operationName(operation)) + " refused: " + std::string(errorCodeName(e.code())));
            return done(failure<CardSummary>(std::current_exception()));
        }
        claim(principal, cardId, [done, outcome = std::move(outcome)](std::exception_ptr error) mutable {
            if (error) return done(failure<CardSummary>(std::move(error)));
            done(std::move(outcome));
        });
    });
}

void CardAccess::card(const Principal& principal, const std::string& cardId, Completion<CardSummary> done)
{
    agent_.card(cardId, [this, principal, cardId, done = std::move(done)](Outcome<CardSummary> outcome) {
        if (auto* error = std::get_if<std::exception_ptr>(&outcome)) return done(failure<CardSummary>(*error));
        CardSummary card = std::get<0>(std::move(outcome));
        const Grant grant = grantOf(principal);
        const CardVerdict verdict = options_.policy->verdict(principal, grant.get(), card);
        // A blocked card is still described (that is how the user learns why
        // nothing works); everything else about it is refused.
        if (!verdict.visible && !principal.isLocal()) {
            return done(failure<CardSummary>(std::make_exception_ptr(
                Error(ErrorCode::OperationForbidden, principal.origin + " may not read this card"))));
        }
        card.blockedByPolicy = verdict.blocked;
        claim(principal, cardId, [done, card = std::move(card)](std::exception_ptr error) mutable {
            if (error) return done(failure<CardSummary>(std::move(error)));
            done(success(std::move(card)));
        });
    });
}

void CardAccess::certificate(const Principal& principal, const std::string& cardId, const std::string& certId,
                             Completion<CertificateSummary> done)
{
    authorize(principal, cardId, Operation::Read,
              [this, cardId, certId, done = std::move(done)](Outcome<CardSummary> outcome) {
                  if (auto* error = std::get_if<std::exception_ptr>(&outcome)) {
                      return done(failure<CertificateSummary>(*error));
                  }
                  agent_.certificate(cardId, certId, done);
              });
}

void CardAccess::pinStatus(const Principal& principal, const std::string& cardId,
                           const std::optional<std::string>& pinId, Completion<PinStatus> done)
{
    authorize(principal, cardId, Operation::Read,
              [this, cardId, pinId, done = std::move(done)](Outcome<CardSummary> outcome) {
                  if (auto* error = std::get_if<std::exception_ptr>(&outcome)) return done(failure<PinStatus>(*error));
                  try {
                      const auto& card = std::get<0>(outcome);
                      agent_.pinStatus(cardId, pinId ? card.pin(*pinId).id : card.defaultPin().id, done);
                  } catch (...) {
                      done(failure<PinStatus>(std::current_exception()));
                  }
              });
}

void CardAccess::unblockCodeStatus(const Principal& principal, const std::string& cardId,
                                   const std::optional<std::string>& pinId, Completion<PinStatus> done)
{
    authorize(principal, cardId, Operation::Read,
              [this, cardId, pinId, done = std::move(done)](Outcome<CardSummary> outcome) {
                  if (auto* error = std::get_if<std::exception_ptr>(&outcome)) return done(failure<PinStatus>(*error));
                  try {
                      PinRequestOptions options;
                      options.pinId = pinId;
                      const auto pin = pinFor(std::get<0>(outcome), PinOperation::Unblock, options, std::nullopt);
                      agent_.unblockCodeStatus(cardId, pin.id, done);
                  } catch (...) {
                      done(failure<PinStatus>(std::current_exception()));
                  }
              });
}

// ---- spending PIN tries ---------------------------------------------------------------------

void CardAccess::verifyPin(const Principal& principal, const std::string& cardId, std::optional<Secret> pin,
                           PinRequestOptions options, Completion<PinStatus> done)
{
    auto flow = std::make_shared<PinFlow>(principal, cardId, PinOperation::Verify, options, std::move(pin));
    flow->donePin = std::move(done);
    startPinFlow(std::move(flow));
}

void CardAccess::changePin(const Principal& principal, const std::string& cardId, std::optional<Secret> pin,
                           std::optional<Secret> newPin, PinRequestOptions options, Completion<PinStatus> done)
{
    auto flow = std::make_shared<PinFlow>(principal, cardId, PinOperation::Change, options, std::move(pin), std::move(newPin));
    flow->donePin = std::move(done);
    startPinFlow(std::move(flow));
}

void CardAccess::unblockPin(const Principal& principal, const std::string& cardId, std::optional<Secret> unblockCode,
                            std::optional<Secret> newPin, PinRequestOptions options, Completion<PinStatus> done)
{
    auto flow = std::make_shared<PinFlow>(principal, cardId, PinOperation::Unblock, options, std::move(unblockCode), std::move(newPin));
    flow->donePin = std::move(done);
    startPinFlow(std::move(flow));
}

void CardAccess::sign(const Principal& principal, const std::string& cardId, SignRequest request,
                      PinRequestOptions options, Completion<SignResult> done)
{
    // The PIN pad is the origin policy's choice, never the caller's: only a value is taken.
    std::optional<Secret> pin;
    if (request.pin && !request.pin->isOnPinpad()) pin = request.pin->takeValue();
    request.pin.reset();
    auto flow = std::make_shared<PinFlow>(principal, cardId, PinOperation::Sign, options, std::move(pin));
    flow->signRequest = std::move(request);
    flow->doneSign = std::move(done);
    startPinFlow(std::move(flow));
}

void CardAccess::startPinFlow(std::shared_ptr<PinFlow> flow)
{
    try {
        flow->grant = grantOf(flow->principal);
        flow->source = options_.policy->pinSource(flow->principal, flow->grant.get(), flow->grant.paired);
        if (flow->options.pinpad) {
            if (flow->principal.isLocalClient()) {
                flow->source = PinSource::Pinpad;
            } else if (flow->source != PinSource::Pinpad) {
                throw Error(ErrorCode::PinSourceMismatch, "this origin's PIN is not entered on the reader's PIN pad: "
                                                          "only inkan on this computer may choose the PIN pad");
            }
        }

        // Step 3, the part that needs no card: is the PIN where it should be?
        const bool fromRequest = flow->source == PinSource::Request;
        if (!fromRequest && (flow->first || flow->second)) {
            throw Error(ErrorCode::PinSourceMismatch,
                        "this origin's PIN is entered in " +
                            std::string(flow->source == PinSource::Pinentry ? "inkand's PIN dialog" : "the reader's pinpad") +
                            ", never in the page: send no PIN");
        }
        if (fromRequest) {
            switch (flow->kind) {
            case PinOperation::Verify:
                if (!flow->first) throw missingField("pin");
                break;
            case PinOperation::Change:
                if (!flow->first) throw missingField("pin");
                if (!flow->second) throw missingField("newPin");
                break;
            case PinOperation::Unblock:
                if (!flow->first) throw missingField("unblockCode");
                if (!flow->second) throw missingField("newPin");
                break;
            case PinOperation::Sign: break;
            }
        }
    } catch (...) {
        flow->fail(std::current_exception());
        return;
    }

    agent_.card(flow->cardId, [this, flow](Outcome<CardSummary> outcome) {
        if (auto* error = std::get_if<std::exception_ptr>(&outcome)) return flow->fail(*error);
        try {
            onCardForPin(flow, std::get<0>(outcome));
        } catch (...) {
            flow->fail(std::current_exception());
        }
    });
}

void CardAccess::onCardForPin(const std::shared_ptr<PinFlow>& flow, const CardSummary& card)
{
    flow->card = card;
    try {
        options_.policy->require(flow->principal, flow->grant.get(), card, flow->operation());
        flow->pin = pinFor(card, flow->kind, flow->options, flow->signRequest);
    } catch (const Error& e) {
        note(flow->principal, flow->cardId, std::string(flow->what()) + " refused: " + std::string(errorCodeName(e.code())));
        throw;
    }

    // Step 3.
    claim(flow->principal, flow->cardId, [this, flow](std::exception_ptr error) {
        if (error) return flow->fail(std::move(error));
        try {
            onClaimed(flow);
        } catch (...) {
            flow->fail(std::current_exception());
        }
    });
}

void CardAccess::onClaimed(const std::shared_ptr<PinFlow>& flow)
{
    const CardSummary& card = flow->card;

    // A signature relying on an earlier verification spends no try: nothing
    // to guard, but the verification must be this principal's, made just before.
    if (flow->kind == PinOperation::Sign && flow->source == PinSource::Request && !flow->first) {
        if (!verifiedPins_.takeForSignature(flow->cardId, flow->pin.id, PinHolder::of(flow->principal))) {
            note(flow->principal, flow->cardId, "sign without PIN refused: PIN_REQUIRED");
            throw Error(ErrorCode::PinRequired, "a signature without \"pin\" needs this caller's own PIN verification "
                                                "on this card right before it (within " +
                                                    std::to_string(kVerifiedPinWindow.count()) + " s)");
        }
        perform(flow);
        return;
    }

    // Step 4, the card profile's format, before anything reaches the card.
    if (flow->source == PinSource::Request) {
        checkCurrentValue(flow->pin, flow->kind, *flow->first);
        if (flow->second) flow->pin.format.check(*flow->second, "new PIN");
    } else if (flow->source == PinSource::Pinpad) {
        if (!card.pinpad) {
            note(flow->principal, flow->cardId, std::string(flow->what()) + " refused: PINPAD_UNAVAILABLE");
            throw Error(ErrorCode::PinpadUnavailable, "this origin's PIN is entered on the reader's PIN pad, and the "
                                                      "reader holding this card has none");
        }
    } else if (!options_.dialogs || !options_.dialogs->available()) {
        throw Error(ErrorCode::PinEntryUnavailable, "this origin's PIN is entered in inkand's PIN dialog, and no "
                                                    "pinentry program is available");
    }

    // Step 5.
    if (!flow->principal.isLocalClient()) {
        auto admission = wrongPins_.begin(flow->principal.origin);
        if (!admission.attempt) {
            note(flow->principal, flow->cardId, std::string(flow->what()) + " refused: PIN_RATE_LIMITED");
            throw Error(ErrorCode::PinRateLimited, "too many wrong PINs from this origin lately; try again later")
                .withRetryAfter(*admission.retryAfterSeconds);
        }
        flow->attempt = std::move(admission.attempt);
    }

    // Steps 6 to 8.
    queue_->enter(flow->cardId, [this, flow](CardQueue::Slot slot) {
        flow->slot = std::move(slot);
        if (flow->source != PinSource::Pinentry) {
            try {
                perform(flow);
            } catch (...) {
                flow->fail(std::current_exception());
            }
            return;
        }
        // The dialog tells the tries left, so they are read for it; the guard
        // refuses now what it would refuse anyway, and decides again in the
        // operation's own transaction once the user has answered.
        auto onStatus = [this, flow](Outcome<PinStatus> outcome) {
            if (auto* error = std::get_if<std::exception_ptr>(&outcome)) return flow->fail(*error);
            try {
                guard(*flow, std::get<0>(outcome));
                askUser(flow, std::get<0>(outcome));
            } catch (...) {
                flow->fail(std::current_exception());
            }
        };
        // Unblocking spends a try of the unblock code, which has a counter of its own.
        if (flow->kind == PinOperation::Unblock) agent_.unblockCodeStatus(flow->cardId, flow->pin.id, std::move(onStatus));
        else agent_.pinStatus(flow->cardId, flow->pin.id, std::move(onStatus));
    });
}

void CardAccess::guard(const PinFlow& flow, const PinStatus& status) const
{
    // `status` is the unblock code's for Unblock (a blocked PIN is exactly
    // when unblocking is needed), the PIN's otherwise.
    PinGuardRequest request;
    request.threshold = options_.policy->settings().pinGuardThreshold;
    request.acknowledged = flow.options.acknowledgeLowTries;
    request.unblockable = flow.pin.unblockCodeFormat.has_value();
    request.mayAcknowledge = options_.policy->mayAcknowledgeLowTries(flow.principal, flow.grant.get());
    try {
        if (flow.kind == PinOperation::Unblock) checkUnblockCodeTries(status, request);
        else checkPinTries(status, request);
    } catch (const Error& e) {
        note(flow.principal, flow.cardId, std::string(flow.what()) + " refused: " + std::string(errorCodeName(e.code())) +
                                              " (" + std::to_string(status.triesLeft) + " tries left)");
        throw;
    }
}

PinCheck CardAccess::guardFor(const std::shared_ptr<PinFlow>& flow) const
{
    // Runs on the card's worker, inside the operation's transaction.
    return [this, flow](const PinStatus& status) { guard(*flow, status); };
}

void CardAccess::askUser(const std::shared_ptr<PinFlow>& flow, const PinStatus& status)
{
    options_.dialogs->post(
        [this, flow, status](const Pinentry& pinentry, const Abandoned& stopping) {
            try {
                const std::string holder = cardHolderName(flow->card);
                std::string action;
                switch (flow->kind) {
                case PinOperation::Verify: action = "to verify the " + flow->pin.label + " of"; break;
                case PinOperation::Change: action = "to change the " + flow->pin.label + " of"; break;
                case PinOperation::Unblock: action = "to unblock the " + flow->pin.label + " of"; break;
                case PinOperation::Sign: action = "to sign with"; break;
                }
                PinPrompt prompt;
                prompt.title = "inkan";
                prompt.description = flow->principal.origin + " asks " + action + " the IC card of\n" + holder + "\n(card " +
                                     flow->card.label + ", " + flow->cardId + ")\n\n" +
                                     (flow->kind == PinOperation::Unblock
                                          ? "Enter the unblock code, then a new PIN.\nUnblock code tries left: " +
                                                std::to_string(status.triesLeft) + " of " + std::to_string(status.maxTries) +
                                                ". After the last one the card must be reissued."
                                          : (!status.triesLeftKnown ? std::string("PIN tries left: not told by the token")
                                             : !status.maxTriesKnown  ? "PIN tries left: " + std::to_string(status.triesLeft)
                                                                      : "PIN tries left: " + std::to_string(status.triesLeft) +
                                                                            " of " + std::to_string(status.maxTries)) +
                                                (flow->pin.unblockCodeFormat
                                                     ? ". The card locks after the last one."
                                                     : ". After the last one only the card's issuer can reset the PIN."));
                if (flow->kind == PinOperation::Sign && !flow->options.document.empty()) {
                    prompt.description += "\n\n" + flow->options.document;
                }
                prompt.okLabel = flow->kind == PinOperation::Sign ? "Sign" : "OK";

                prompt.prompt = flow->kind == PinOperation::Unblock  ? "Unblock code:"
                                : flow->kind == PinOperation::Change ? "Current PIN:"
                                                                     : "PIN:";
                flow->first = pinentry.getPin(prompt, stopping);
                checkCurrentValue(flow->pin, flow->kind, *flow->first);
                if (flow->kind == PinOperation::Change || flow->kind == PinOperation::Unblock) {
                    PinPrompt next = prompt;
                    next.prompt = "New PIN:";
                    next.repeatPrompt = "New PIN again:";
                    next.repeatMismatch = "The two PINs differ.";
                    flow->second = pinentry.getPin(next, stopping);
                    flow->pin.format.check(*flow->second, "new PIN");
                }
                perform(flow);
            } catch (...) {
                const auto error = std::current_exception();
                note(flow->principal, flow->cardId, std::string(flow->what()) + ": PIN dialog ended: " + describeFailure(error));
                flow->fail(error);
            }
        },
        [flow](std::exception_ptr reason) { flow->fail(std::move(reason)); });
}

void CardAccess::perform(const std::shared_ptr<PinFlow>& flow)
{
    // Whatever this does to the card replaces the verification it may hold;
    // only a successful VERIFY makes a new one, the caller's.
    verifiedPins_.forget(flow->cardId);
    const auto answerPin = [flow](Outcome<PinStatus> outcome) { flow->finish(std::move(outcome), flow->donePin); };
    switch (flow->kind) {
    case PinOperation::Verify:
        agent_.verifyPin(flow->cardId, flow->pin.id, flow->input(flow->first), guardFor(flow),
                         [this, flow](Outcome<PinStatus> outcome) {
            if (outcome.index() == 0) verifiedPins_.verified(flow->cardId, flow->pin.id, PinHolder::of(flow->principal));
            flow->finish(std::move(outcome), flow->donePin);
        });
        return;
    case PinOperation::Change:
        agent_.changePin(flow->cardId, flow->pin.id, flow->input(flow->first), flow->input(flow->second), guardFor(flow),
                         answerPin);
        return;
    case PinOperation::Unblock:
        agent_.unblockPin(flow->cardId, flow->pin.id, flow->input(flow->first), flow->input(flow->second), guardFor(flow),
                          answerPin);
        return;
    case PinOperation::Sign: {
        SignRequest request = std::move(*flow->signRequest);
        const bool withPin = flow->source == PinSource::Pinpad || flow->first.has_value();
        if (withPin) request.pin = flow->input(flow->first);
        agent_.sign(flow->cardId, std::move(request), withPin ? guardFor(flow) : PinCheck(),
                    [flow](Outcome<SignResult> outcome) { flow->finish(std::move(outcome), flow->doneSign); });
        return;
    }
    }
}

}  // namespace inkan::security
