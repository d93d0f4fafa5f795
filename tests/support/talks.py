"""Labelled text for the analyzer tests: paragraphs on distinct topics."""
from __future__ import annotations

TOPICS = [
    [
        "A sourdough starter is simply flour and water colonised by wild yeast and lactic acid bacteria.",
        "You feed it every day with fresh flour, and within a week it bubbles and smells pleasantly sour.",
        "The bacteria produce the acids that give the bread its tang.",
        "The yeast produces the gas that makes the dough rise.",
        "Because wild yeast is slower than baker's yeast, the dough needs a long fermentation, often twelve hours.",
        "Bakers fold the dough several times during that period to build gluten strength.",
        "The loaf is shaped, proofed overnight in the fridge, and baked in a very hot covered pot.",
        "Steam trapped inside the pot lets the crust expand before it hardens into a blistered shell.",
    ],
    [
        "Most volcanoes sit along the edges of tectonic plates.",
        "Where one plate dives beneath another, the sinking slab releases water into the hot mantle above it.",
        "That water lowers the melting point of the rock, and magma forms deep underground.",
        "The magma is lighter than the surrounding rock, so it rises and collects in chambers below the surface.",
        "When pressure in the chamber grows too great, the magma forces its way up and erupts.",
        "Sticky magma rich in silica traps gas and explodes violently, as Mount St. Helens did in 1980.",
        "Runny basaltic lava, like the flows in Hawaii, lets the gas escape and pours out gently instead.",
    ],
    [
        "Why does everyone tell you to start saving for retirement early?",
        "Compound interest means you earn interest on your savings and also on the interest they already earned.",
        "One thousand dollars invested at seven percent a year grows to about two thousand dollars in ten years.",
        "Leave it alone for thirty years and it becomes roughly seven and a half thousand dollars.",
        "Most of that growth happens in the final decade, which is why starting early matters so much.",
        "Someone who saves a little in their twenties can retire with more than someone who saves twice as much from forty.",
        "Fees compound the same way in reverse, and a one percent annual fee can eat a quarter of your balance.",
    ],
    [
        "A honeybee colony behaves like a single organism made of tens of thousands of insects.",
        "The queen lays up to two thousand eggs a day, and almost every bee in the hive is her daughter.",
        "Worker bees change jobs as they age, first cleaning cells, then feeding larvae and building wax comb.",
        "The oldest workers fly out to forage for nectar and pollen.",
        "A forager that finds a rich patch of flowers returns and performs a waggle dance on the comb.",
        "The angle of the dance tells her sisters the direction of the flowers relative to the sun.",
        "Nectar is passed from bee to bee and fanned with their wings until it thickens into honey.",
    ],
    [
        "Training for a marathon is mostly about running slowly.",
        "About eighty percent of your weekly miles should be at an easy conversational pace.",
        "Those easy runs build the capillaries and mitochondria that let your leg muscles burn fat.",
        "Once a week, a long run gradually extends from ten miles toward twenty.",
        "Speed work, such as interval repeats on a track, is only a small part of the plan.",
        "In the final three weeks you taper, cutting your mileage so your legs are fresh on race day.",
        "The most common race day mistake is starting too fast and running out of glycogen near mile twenty.",
    ],
]

# A conversation: the topics share a subject (one chef's life), so their edges are softer.
