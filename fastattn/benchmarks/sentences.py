"""A sentence set for the MiniLM benchmarks: 12 topics of 4 sentences written for
fastattn (paraphrases within a topic, so nearest neighbours mean something), and a
mixed-length batch of 40 (36 sentences and 4 long paragraphs built from them)."""

from __future__ import annotations

TOPICS = [
    [
        'The cat is sleeping on the sofa.',
        'A kitten naps on the couch.',
        'My cat spends the afternoon asleep on the settee.',
        'There is a cat dozing in the living room.',
    ],
    [
        'The stock market fell sharply today.',
        'Share prices dropped at the close of trading.',
        'Investors sold off equities and the index slid.',
        'Wall Street had a bad day.',
    ],
    [
        'How do I reset my password?',
        'I forgot my login and need a new password.',
        'What are the steps to change my account password?',
        'Help, I cannot sign in to my account.',
    ],
    [
        'It will rain heavily tomorrow morning.',
        'Expect showers early tomorrow.',
        'The forecast says wet weather before noon.',
        'Bring an umbrella tomorrow, it is going to pour.',
    ],
    [
        'She plays the violin in an orchestra.',
        'He is a cellist in the city symphony.',
        'The musicians rehearsed the concerto all evening.',
        'An orchestra performed Beethoven last night.',
    ],
    [
        'Add two eggs and whisk the batter.',
        'Beat the eggs into the flour mixture.',
        'Fold the whipped cream into the cake mix.',
        'Stir the pancake batter until smooth.',
    ],
    [
        'The train to Berlin was delayed by an hour.',
        'Our flight was cancelled because of fog.',
        'The bus arrived forty minutes late.',
        'Rail services are disrupted this weekend.',
    ],
    [
        'The goalkeeper saved a penalty in the final minute.',
        'The striker scored twice in the match.',
        'Our team won the football game three to one.',
        'The referee showed a red card to the defender.',
    ],
    [
        'Drink plenty of water when you exercise.',
        'Stay hydrated during a workout.',
        'Running every morning improves your fitness.',
        'Regular exercise is good for the heart.',
    ],
    [
        'The compiler reported a syntax error on line ten.',
        'My code does not build because of a typo.',
        'The program crashes with a segmentation fault.',
        'Debugging the kernel took all afternoon.',
    ],
    [
        'The museum opens a new exhibition of paintings.',
        'An art gallery is showing modern sculpture.',
        'Visitors queued to see the famous portrait.',
        'The artist displayed her watercolours downtown.',
    ],
    [
        'Plant the tomatoes after the last frost.',
        'Water the vegetable garden in the evening.',
        'Roses need pruning at the end of winter.',
        'The seedlings are growing in the greenhouse.',
    ],
]

SENTENCES = [s for topic in TOPICS for s in topic]


def mixed_batch(n: int = 40, long: int = 4) -> list:
    """`n` texts: `n - long` sentences of the set and `long` paragraphs, each the whole set
    joined from a different starting topic (over 256 tokens: truncated to 256)."""
    short = SENTENCES[: n - long]
    paragraphs = [" ".join(SENTENCES[4 * i:] + SENTENCES[:4 * i]) for i in range(long)]
    return short[: n // 2] + paragraphs[: long // 2] + short[n // 2:] + paragraphs[long // 2:]
