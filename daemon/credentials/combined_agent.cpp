// The readers' cards and the other sources as one listing (combined_agent.hpp).
#include "daemon/credentials/combined_agent.hpp"

namespace inkan::credentials {

void CombinedAgent::cards(Completion<std::vector<CardSummary>> done)
{
    readers_.cards([this, done = std::move(done)](Outcome<std::vector<CardSummary>> outcome) {
        if (outcome.index() == 1) return done(std::move(outcome));
        auto list = std::get<0>(std::move(outcome));
        // The sources list from memory and complete at once, on this thread.
        for (auto& source : sources_) {
            source.agent->cards([&list](Outcome<std::vector<CardSummary>> cards) {
                if (cards.index() == 0) {
                    for (auto& card : std::get<0>(cards)) list.push_back(std::move(card));
                }
            });
        }
        done(std::move(list));
    });
}

}  // namespace inkan::credentials
