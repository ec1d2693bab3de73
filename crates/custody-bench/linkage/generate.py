#!/usr/bin/env python3
"""Generates a ledger of people and a leaked file of corrupted copies of some of them, in the
manner of the FEBRL data generator (Christen 2005; Christen & Pudjijono 2009): each leaked copy
gets up to a few corruptions drawn from typos by keyboard distance, phonetic misspellings,
OCR-like confusions, inserted, deleted and transposed letters, missing values, given and family
names swapped, day and month swapped, a postcode one character off, and nicknames. The file also
holds strangers: people who share a common name (given and family) with one of ours and
nothing else. Writes people.csv (a CRM export), leak.csv (the leak, headers as a dump writes
them) and truth.csv (each leaked line and the reference it is a copy of, empty for a stranger).

    python3 generate.py OUT_DIR --people 100000 --leaked 20000 --strangers 2000 --seed 7
"""

import argparse
import csv
import datetime
import os
import random

FIRST = """james john robert michael william david richard joseph thomas charles christopher daniel
matthew anthony mark donald steven paul andrew joshua kenneth kevin brian george timothy ronald
edward jason jeffrey ryan jacob gary nicholas eric jonathan stephen larry justin scott brandon
benjamin samuel gregory alexander patrick frank raymond jack dennis jerry tyler aaron jose adam
nathan henry zachary douglas peter kyle noah ethan jeremy walter christian keith roger terry
austin sean gerald carl harold dylan arthur lawrence jordan jesse bryan billy bruce gabriel joe
logan alan juan albert willie elijah wayne randy vincent mason roy ralph bobby russell bradley
philip eugene mary patricia jennifer linda elizabeth barbara susan jessica sarah karen lisa nancy
betty sandra margaret ashley kimberly emily donna michelle carol amanda melissa deborah stephanie
dorothy rebecca sharon laura cynthia amy kathleen angela shirley brenda emma anna pamela nicole
samantha katherine christine helen debra rachel carolyn janet maria catherine heather diane olivia
julie joyce victoria ruth virginia lauren kelly christina joan evelyn judith andrea hannah megan
cheryl jacqueline martha madison teresa gloria sara janice ann kathryn abigail sophia frances
jean alice judy isabella julia grace amber denise danielle marilyn beverly charlotte natalie
theresa diana brittany doris kayla alexis lori marie jurgen sorenne bjorn aoife siobhan niamh
gareth rhys dafydd owain cerys sian bethan""".split()

LAST = """smith jones williams taylor brown davies evans wilson thomas johnson roberts robinson
thompson wright walker white edwards hughes green hall lewis harris clarke patel jackson wood
turner martin cooper hill ward morris moore clark lee king baker harrison morgan allen james scott
phillips watson davis parker price bennett young griffiths mitchell kelly cook carter richardson
bailey collins bell shaw murphy miller cox richards khan marshall anderson simpson ellis adams
singh begum wilkinson foster chapman powell webb rogers gray mason ali hunt hussain campbell
matthews owen palmer holmes mills barnes knight lloyd butler russell barker fisher stevens jenkins
murray dixon harvey graham pearson ahmed fletcher walsh kaur gibson howard andrews stewart
elliott reynolds saunders payne fox ford pearce day brooks west lawrence cole atkinson bradley
spencer gill dawson ball burton obrien watts rose booth perry ryan grant wells armstrong francis
rees hayes hart hudson newman barrett webster hunter gregory carr lowe page marsh riley dunn
woods parsons berry stone reid holland hawkins harding porter robertson newton oliver reed
kennedy williamson bird gardner shah dean lane cooke bates henderson parry burgess bishop walton
burns nicholson shepherd ross cross long freeman warren nicholls hamilton byrne sutton mcdonald
yates hodgson robson curtis hopkins oconnor harper coleman watkins moss mccarthy chambers
odonnell griffin sharp hardy wheeler potter osborne johnston gordon doyle wallace george jordan
hutchinson rowe burke may pritchard gilbert willis higgins read miles stevenson stephenson
hammond arnold buckley walters hewitt barber nelson slater austin sullivan whitehead mann frost
lambert stephens blake akhtar lynch goodwin barton woodward thomson cunningham quinn barnett
baxter bibi clayton nash greenwood jennings holt kemp poole gallagher bond stokes tucker davidson
fowler heath norman middleton lawson banks french stanley jarvis gibbs ferguson hayward carroll
douglas dickinson todd barlow peters lucas knowles hartley miah simmons morton alexander field
morrison norris townsend preston hancock thornton baldwin burrows briggs storey pollard mueller
schmidt sorensen""".split()

NICK = {"robert": "bob", "william": "bill", "elizabeth": "liz", "margaret": "maggie", "katherine": "kate",
        "richard": "rick", "james": "jim", "michael": "mike", "thomas": "tom", "joseph": "joe",
        "charles": "charlie", "edward": "ed", "anthony": "tony", "christopher": "chris", "daniel": "dan",
        "matthew": "matt", "andrew": "andy", "alexander": "alex", "benjamin": "ben", "samuel": "sam",
        "nicholas": "nick", "jonathan": "jon", "stephen": "steve", "david": "dave", "peter": "pete",
        "patricia": "pat", "susan": "sue", "jennifer": "jenny", "rebecca": "becky", "deborah": "debbie",
        "victoria": "vicky", "jessica": "jess", "gregory": "greg", "timothy": "tim", "kenneth": "ken",
        "ronald": "ron", "donald": "don", "jacob": "jake", "joshua": "josh", "zachary": "zach",
        "philip": "phil", "abigail": "abby", "samantha": "sam", "lawrence": "larry", "gerald": "gerry"}

KEYBOARD = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]
PHONETIC = [("ph", "f"), ("ck", "k"), ("ie", "y"), ("ey", "y"), ("th", "t"), ("ou", "ow"), ("ll", "l"),
            ("tt", "t"), ("ss", "s"), ("mm", "m"), ("son", "sen"), ("ae", "e"), ("ai", "ay"), ("ch", "sh"),
            ("ue", "u"), ("c", "k"), ("s", "z"), ("i", "y"), ("ee", "ea"), ("nn", "n")]
OCR = [("m", "rn"), ("l", "1"), ("o", "0"), ("s", "5"), ("b", "h"), ("g", "q")]
LETTERS = "ABCDEFGHJKLMNOPRSTUWY"
DOMAINS = ["example.org", "example.com", "example.net", "mail.example", "post.example"]


def neighbour(char, rng):
    for row_index, row in enumerate(KEYBOARD):
        at = row.find(char)
        if at >= 0:
            options = [row[i] for i in (at - 1, at + 1) if 0 <= i < len(row)]
            for other in (row_index - 1, row_index + 1):
                if 0 <= other < len(KEYBOARD) and at < len(KEYBOARD[other]):
                    options.append(KEYBOARD[other][at])
            return rng.choice(options)
    return char


def typo(word, rng):
    if len(word) < 3:
        return word
    at = rng.randrange(1, len(word))
    kind = rng.random()
    if kind < 0.4:
        return word[:at] + neighbour(word[at], rng) + word[at + 1:]
    if kind < 0.6:
        return word[:at] + word[at + 1:]
    if kind < 0.8:
        return word[:at] + neighbour(word[at], rng) + word[at:]
    if at < len(word) - 1:
        return word[:at] + word[at + 1] + word[at] + word[at + 2:]
    return word


def confuse(word, rng, table):
    """One of `table`'s confusions (a spelling for a sound, a scanner's misreading) applied
    after the first letter, or a typo when none applies."""
    options = [(a, b) for a, b in table if a in word[1:]]
    if not options:
        return typo(word, rng)
    a, b = rng.choice(options)
    at = word.find(a, 1)
    return word[:at] + b + word[at + len(a):]


def zipf_choice(items, rng):
    # Common names are far more common.
    weights = getattr(zipf_choice, "cache", {}).get(id(items))
    if weights is None:
        # 1 / (rank + 20): the commonest name about 2 % of people, as Smith is in England.
        weights = [1.0 / (rank + 20) for rank in range(len(items))]
        zipf_choice.cache = getattr(zipf_choice, "cache", {})
        zipf_choice.cache[id(items)] = weights
    return rng.choices(items, weights=weights, k=1)[0]


def postcode(rng):
    area = rng.choice(["SW", "LS", "M", "B", "EH", "CF", "BS", "NE", "G", "L", "N", "E", "OX", "CB"])
    return f"{area}{rng.randrange(1, 30)} {rng.randrange(1, 10)}{rng.choice(LETTERS)}{rng.choice(LETTERS)}"


def person(rng, number):
    first = zipf_choice(FIRST, rng)
    last = zipf_choice(LAST, rng)
    born = datetime.date(1940, 1, 1) + datetime.timedelta(days=rng.randrange(0, 65 * 365))
    email = f"{first}.{last}{number}@{rng.choice(DOMAINS)}"
    return {"ref": f"P{number:08d}", "first": first, "last": last, "born": born,
            "postcode": postcode(rng), "email": email}


def corrupt(row, rng, corruptions):
    row = dict(row)
    fields = ["first", "last", "born", "postcode", "email"]
    for _ in range(corruptions):
        field = rng.choice(fields + ["swap", "missing"])
        if field in ("first", "last"):
            kind = rng.random()
            if field == "first" and row["first"] in NICK and kind < 0.2:
                row["first"] = NICK[row["first"]]
            elif kind < 0.55:
                row[field] = typo(row[field], rng)
            elif kind < 0.85:
                row[field] = confuse(row[field], rng, PHONETIC)
            else:
                row[field] = confuse(row[field], rng, OCR)
        elif field == "born" and row["born"]:
            born = row["born"]
            kind = rng.random()
            if kind < 0.4 and born.day <= 12 and born.day != born.month:
                row["born"] = datetime.date(born.year, born.day, born.month)
            elif kind < 0.8:
                day = min(28, max(1, born.day + rng.choice([-1, 1, 10, -10])))
                row["born"] = datetime.date(born.year, born.month, day)
            else:
                row["born"] = datetime.date(born.year + rng.choice([-1, 1]), born.month, min(born.day, 28))
        elif field == "postcode" and row["postcode"]:
            text = row["postcode"]
            at = rng.choice([i for i, c in enumerate(text) if c != " "])
            replacement = rng.choice("0123456789") if text[at].isdigit() else rng.choice(LETTERS)
            row["postcode"] = text[:at] + replacement + text[at + 1:]
        elif field == "email" and row["email"]:
            local, domain = row["email"].split("@")
            row["email"] = typo(local, rng) + "@" + domain
        elif field == "swap":
            row["first"], row["last"] = row["last"], row["first"]
        elif field == "missing":
            victim = rng.choice(["born", "postcode", "email"])
            row[victim] = None
    return row


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--leaked", type=int, default=20_000)
    parser.add_argument("--strangers", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    people = [person(rng, number) for number in range(1, args.people + 1)]
    with open(os.path.join(args.out, "people.csv"), "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["Member Number", "First Name", "Last Name", "Email", "Post Code", "Date of Birth"])
        for p in people:
            writer.writerow([p["ref"], p["first"].title(), p["last"].title(), p["email"], p["postcode"],
                             p["born"].isoformat()])
    rows = []
    for p in rng.sample(people, min(args.leaked, len(people))):
        copy = corrupt(p, rng, rng.choice([0, 1, 1, 2, 2, 3]))
        # Most leaked copies carry no email: the dump was of a member list without them.
        if rng.random() < 0.6:
            copy["email"] = None
        rows.append((copy, p["ref"]))
    for _ in range(args.strangers):
        namesake = rng.choice(people)
        stranger = person(rng, 0)
        stranger["first"], stranger["last"] = namesake["first"], namesake["last"]
        stranger["email"] = None
        rows.append((stranger, ""))
    rng.shuffle(rows)
    with open(os.path.join(args.out, "leak.csv"), "w", newline="") as leak, \
            open(os.path.join(args.out, "truth.csv"), "w", newline="") as truth:
        leak_writer = csv.writer(leak)
        truth_writer = csv.writer(truth)
        leak_writer.writerow(["uid", "fname", "lname", "mail", "zip", "birthdate"])
        truth_writer.writerow(["line", "reference"])
        for number, (row, ref) in enumerate(rows, start=2):
            leak_writer.writerow([f"u{number}", row["first"].title(), row["last"].title(), row["email"] or "",
                                  row["postcode"] or "", row["born"].strftime("%d/%m/%Y") if row["born"] else ""])
            truth_writer.writerow([number, ref])


if __name__ == "__main__":
    main()
