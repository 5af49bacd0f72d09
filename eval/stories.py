"""Scene texts of the evaluation stories (written for this suite; no outside text).

A story is a list of scenes in film order. Each scene is ``(kind, lines, beat)``:

- ``kind``: ``dlg`` a dialogue scene; ``one`` one short line in a stretch of footage; ``long`` about a
  minute with a few lines far apart (music and silence between); ``sparse`` three or four words in
  about 8 s; ``silent`` no speech at all (music bed only); ``real:<key>`` a real recording from
  ``../shared/media`` (its lines are its transcript).
- ``lines``: ``(speaker, text)``; the speaker picks a voice of the case.
- ``beat``: the recap paragraph that tells the scene, or None for a near-distractor (same names, same
  topic, not in the script).

Stories A and B are for tuning; story C (a 1968-style spy drama, in the manner of the held-out case of
issue 11) is held out: nothing is tuned on it.
"""

from __future__ import annotations

Scene = tuple[str, list[tuple[str, str]], str | None]

STORY_A: list[Scene] = [
    ("dlg", [("MARTA", "Jonas, come look at the well. The rope came up dry again this morning."),
             ("JONAS", "Dry? We dug it deeper in the spring. There should be water for another year."),
             ("MARTA", "There is mud at the bottom and nothing else. The apple trees will not last the month.")],
     "On the farm, Marta drags her brother over to the well: for the second day its bucket comes back "
     "empty, and she fears the orchard will die within weeks."),
    ("dlg", [("FELIX", "I heard the Carvers sold their land to the bottling company."),
             ("JONAS", "They offered us money too, Uncle Felix. A great deal of it."),
             ("FELIX", "Money does not grow apples, boy.")],
     None),
    ("one", [("JONAS", "We are not selling.")],
     "Jonas says flatly that the family will keep the farm."),
    ("dlg", [("FELIX", "When I was young the creek behind the barn ran all summer long."),
             ("MARTA", "The creek? It has been a ditch for twenty years."),
             ("FELIX", "Somebody upstream built a dam. I always meant to go and see who.")],
     "Their old uncle remembers that the stream behind the barn once flowed through every summer, until "
     "someone blocked it farther up the valley."),
    ("long", [("MARTA", "Do you hear that?"),
              ("JONAS", "Only the wind."),
              ("MARTA", "No. Water. Somewhere under the rocks."),
              ("JONAS", "Then keep climbing.")],
     "The siblings hike for a long time up the dry bed, saying little, until Marta thinks she can hear "
     "running water beneath the stones."),
    ("dlg", [("JONAS", "That fence is new. And look at the sign: private property, bottling company."),
             ("MARTA", "They have walled off the whole spring."),
             ("JONAS", "So that is where our water went.")],
     None),
    ("dlg", [("GUARD", "You two are trespassing. Turn around and go back down the hill."),
             ("MARTA", "This spring fed our creek for a hundred years. You cannot just take it."),
             ("GUARD", "Take it up with the lawyers, miss.")],
     "At the top, a guard orders them off the land, and Marta protests that the spring has watered their "
     "valley for a century."),
    ("sparse", [("FELIX", "Lawyers. Of course.")],
     "Back home, their uncle mutters bitterly about the legal fight ahead."),
    ("dlg", [("MARTA", "The county archive has the old water deeds. Mister Hale keeps the keys."),
             ("HALE", "Those boxes have not been opened since the war. What are you looking for?"),
             ("MARTA", "Proof that the creek belongs to everyone in the valley.")],
     "Marta goes to the town's records office, where the clerk unlocks dusty boxes so she can hunt for "
     "the original water rights."),
    ("dlg", [("HALE", "The company's lawyer was here last week asking for the very same boxes."),
             ("MARTA", "Did you give them anything?"),
             ("HALE", "Only what the law required. Copies, not the originals.")],
     None),
    ("silent", [], "A wordless stretch follows as the search goes on late into the night."),
    ("dlg", [("MARTA", "Here it is. Eighteen ninety two. The water of Miller's creek shall never be sold."),
             ("HALE", "Signed by the governor himself. That is binding, Marta."),
             ("MARTA", "Then the company has been stealing it all along.")],
     "She finds an 1892 decree, signed by the governor, forbidding anyone from ever selling the creek's "
     "water, which means the company's claim is void."),
    ("dlg", [("JUDGE", "The court has read the decree. The dam will be opened within thirty days."),
             ("LAWYER", "Your honour, my client will appeal."),
             ("JUDGE", "Your client may do as he likes, after the water is flowing.")],
     "In court, the judge orders the dam opened within a month and brushes off the company lawyer's "
     "threat of an appeal."),
    ("dlg", [("JONAS", "Marta, wake up. Listen."),
             ("MARTA", "Is that the creek?"),
             ("JONAS", "It is running past the barn, just like Felix said.")],
     "Weeks later Jonas wakes his sister at dawn: the stream is flowing past the barn again, as their "
     "uncle had promised."),
]

STORY_B: list[Scene] = [
    ("dlg", [("OKAFOR", "Kestrel station, this is Doctor Okafor. The ice core drill stopped at nine hundred metres."),
             ("LENA", "Stopped how? Mechanical failure?"),
             ("OKAFOR", "No. It hit something hard. Something that is not rock.")],
     "At the polar research base, Dr. Okafor radios that the drill has halted deep in the ice, blocked by "
     "something that does not seem to be stone."),
    ("dlg", [("RUIZ", "The weather window closes tomorrow. After that nobody flies for three weeks."),
             ("LENA", "Then we have one day to decide."),
             ("RUIZ", "I can take four people out. Not five.")],
     "The pilot, Ruiz, warns that storms will ground his plane for weeks after tomorrow, and that he can "
     "only evacuate four of the five crew."),
    ("dlg", [("LENA", "Ruiz says the plane is full tomorrow."),
             ("OKAFOR", "Then somebody stays behind with the drill."),
             ("LENA", "It will not be you, Doctor. You have a family.")],
     None),
    ("one", [("OKAFOR", "I will stay.")],
     "Okafor quietly volunteers to remain."),
    ("long", [("LENA", "Camera two is down."),
              ("OKAFOR", "Switch to the thermal view."),
              ("LENA", "There. Under the ice. It is warm."),
              ("OKAFOR", "Nothing down there should be warm.")],
     "A long, tense sequence follows as they lower a camera into the borehole and, after a long wait, see "
     "a warm shape beneath the ice."),
    ("dlg", [("OKAFOR", "The thermal camera shows a heat source at nine hundred metres."),
             ("RUIZ", "Could it be volcanic?"),
             ("OKAFOR", "Volcanoes do not have straight edges.")],
     None),
    ("silent", [], "The crew spends a silent night watching the monitors."),
    ("dlg", [("LENA", "The signal is repeating. Three short pulses, then a long one."),
             ("OKAFOR", "That is not random. That is a pattern."),
             ("LENA", "Somebody built it to be found.")],
     "By morning Lena notices the heat source pulsing in a regular rhythm, and they conclude it was made "
     "by someone who meant it to be discovered."),
    ("sparse", [("RUIZ", "Engines warm. Boarding.")],
     "The pilot curtly calls everyone to the plane."),
    ("dlg", [("RUIZ", "Four seats, Doctor. Last call."),
             ("OKAFOR", "Go. Tell them what we found. I will keep the drill running."),
             ("LENA", "We will come back for you. I promise.")],
     "Four of them board while Okafor stays with the drill, and Lena swears they will return for him."),
    ("dlg", [("LENA", "Headquarters, this is Lena from Kestrel. We left a man behind with the drill."),
             ("HQ", "Understood. A relief team is three weeks out."),
             ("LENA", "He does not have three weeks of fuel.")],
     None),
    ("dlg", [("OKAFOR", "Day nineteen. The pulses stopped last night. Then the ice began to melt from below."),
             ("OKAFOR", "I can see it now without the camera. It is a door."),
             ("OKAFOR", "If anyone hears this, I am going to open it.")],
     "Alone, Okafor records a final log: the signal has gone quiet, the ice is thawing from underneath, "
     "and he can see an opening that he intends to enter."),
    ("dlg", [("RUIZ", "Kestrel is in sight. No smoke from the stove."),
             ("LENA", "The hatch is open. His boots are gone."),
             ("RUIZ", "And the borehole is full of water.")],
     "When the relief plane lands, the base is empty, the stove is cold, and the borehole has flooded."),
]

# Held out: a 1968-style spy drama (names, topic and wording unseen while tuning).
STORY_C: list[Scene] = [
    ("dlg", [("BRANDT", "Sit down, Harlan. You know why you are here."),
             ("HARLAN", "The microfilm. Somebody in this building has been selling it to the other side."),
             ("BRANDT", "And I want you to find out who before the minister arrives on Friday.")],
     "Colonel Brandt summons Harlan and gives him until the minister's visit at the end of the week to "
     "unmask the leak inside the ministry."),
    ("dlg", [("VERA", "Good evening, Mister Harlan. The colonel said you would be coming."),
             ("HARLAN", "Did he also say why?"),
             ("VERA", "He never tells me anything. I only type the letters.")],
     None),
    ("one", [("HARLAN", "Trust nobody.")],
     "Harlan reminds himself of the one rule of his trade."),
    ("dlg", [("VERA", "Every copy of the report went through my office. Six of them, numbered."),
             ("HARLAN", "And how many came back?"),
             ("VERA", "Five. Number four never returned from the archive.")],
     "The secretary, Vera, tells him that six numbered copies of the report were made and one of them "
     "vanished on its way back from the archive."),
    ("dlg", [("HARLAN", "Who signed out copy four?"),
             ("CLERK", "The ledger says Colonel Brandt, on the ninth."),
             ("HARLAN", "The colonel was in Vienna on the ninth.")],
     None),
    ("long", [("HARLAN", "He is late."),
              ("VERA", "He is always late."),
              ("HARLAN", "There. By the fountain."),
              ("VERA", "Then it is him.")],
     "A long, nearly wordless stakeout in the rain follows, until at last the courier appears beside the "
     "fountain in the square."),
    ("dlg", [("COURIER", "You have the package?"),
             ("HARLAN", "I have a question first. Who gave you copy number four?"),
             ("COURIER", "A woman. She wore gloves. She paid in dollars.")],
     "Harlan confronts the courier, who admits the stolen report was handed over by a gloved woman paying "
     "in American money."),
    ("sparse", [("VERA", "Gloves. Always gloves.")],
     "Vera, alone, murmurs a telling remark about the gloves."),
    ("dlg", [("BRANDT", "A woman in gloves. That describes half of the city in winter."),
             ("HARLAN", "It describes one woman who types your letters, Colonel."),
             ("BRANDT", "Vera? She has worked for me for eleven years.")],
     None),
    ("silent", [], "Harlan searches an empty office in silence."),
    ("dlg", [("HARLAN", "Dollar notes, in a typewriter case. And a train ticket to Zurich for tonight."),
             ("VERA", "You were not supposed to find that."),
             ("HARLAN", "You were not supposed to leave it in the drawer.")],
     "In her office he uncovers American banknotes hidden in a typewriter case and a ticket for the "
     "night train to Zurich, and Vera is caught."),
    ("dlg", [("VERA", "Do you think I did it for money? Ask the colonel about the ninth."),
             ("HARLAN", "He was in Vienna."),
             ("VERA", "He was in the archive. I typed his travel papers myself. They were forged.")],
     "Vera turns the tables: the colonel's trip abroad was a forgery, she says, and he was in the archive "
     "the day the copy disappeared."),
    ("dlg", [("HARLAN", "Vera told me about the forged papers, Colonel."),
             ("BRANDT", "Vera is a thief and a liar."),
             ("HARLAN", "Then you will not mind if I check the train records for the ninth.")],
     None),
    ("dlg", [("HARLAN", "The conductor remembers you, Colonel. The night train, the ninth, alone."),
             ("BRANDT", "You have no idea what they would have done to my son."),
             ("HARLAN", "Tell it to the minister. He lands in an hour.")],
     "Harlan corners Brandt with a witness from the railway; the colonel pleads that his son was "
     "threatened, and Harlan leaves him for the minister, who is about to arrive."),
    ("dlg", [("VERA", "So I am free to go?"),
             ("HARLAN", "You are free to go to Zurich. I would not come back."),
             ("VERA", "Goodbye, Mister Harlan. Wear gloves. It is cold in this city.")],
     "At the station Harlan lets Vera board her train, and she leaves him with a wry farewell about the "
     "cold."),
    ("dlg", [("MINISTER", "Colonel Brandt has resigned for reasons of health, I am told."),
             ("HARLAN", "That is one way to put it, Minister."),
             ("MINISTER", "It is the only way it will ever be put. Good work, Harlan.")],
     "The minister informs Harlan that Brandt has quietly resigned, and makes clear the affair will be "
     "buried for good."),
]

STORIES: dict[str, list[Scene]] = {"A": STORY_A, "B": STORY_B, "C": STORY_C}

# Real recordings: (key, file under ../shared/media, transcript, beat paraphrase)
REAL: dict[str, tuple[str, str, str]] = {
    "jfk": ("jfk.flac", "And so my fellow Americans, ask not what your country can do for you, ask what you "
            "can do for your country.",
            "An old recording of a president plays, telling citizens to think of what they owe their "
            "nation rather than what it owes them."),
    "lv0870": ("librivox/sense_and_sensibility_01_austen_64kb-0870.wav",
               "and mister john dashwood had then leisure to consider how much there might be prudently in his "
               "power to do for them",
               "A reader of an old novel tells how John Dashwood weighed what help he could wisely give his "
               "family."),
    "lv0920": ("librivox/sense_and_sensibility_01_austen_64kb-0920.wav",
               "had he married a more a amiable woman he might have been made still more respectable than he was",
               "The narrator of the novel remarks that a kinder wife would have made the man more respectable."),
    "banana": ("autoeditor_example_banana.mp4",
               "(auto-editor example: a man explains the clip is free to use, and says banana at forty seconds)",
               "A man in front of a plain background says the clip may be used freely and promises to name a "
               "fruit when the timer hits forty seconds."),
}
