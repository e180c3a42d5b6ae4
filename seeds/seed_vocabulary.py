"""Word lists for seeds/generate.py: providers, topics and headline vocabulary (plain data, no logic).

The general word lists are ordered from common to rare: the generator draws from them with Zipf-like
weights, so a few words ("new", "report") appear in many cards and the rest form a long tail, as in
real news text. Proper names are composed from parts, which adds a much longer tail of rare tokens.
"""

from __future__ import annotations

# name, domain, URL shape (see generate._urls), image path shape
PROVIDERS: tuple[tuple[str, str, str], ...] = (
    ("Deutsche Welle", "dw.com", "dw"),
    ("Reuters", "reuters.com", "dated"),
    ("Associated Press", "apnews.com", "slug-id"),
    ("BBC News", "bbc.co.uk", "bbc"),
    ("The Guardian", "theguardian.com", "dated"),
    ("The Verge", "theverge.com", "dated"),
    ("Wired", "wired.com", "story"),
    ("Ars Technica", "arstechnica.com", "dated"),
    ("TechCrunch", "techcrunch.com", "dated"),
    ("Engadget", "engadget.com", "slug-html"),
    ("CNET", "cnet.com", "news"),
    ("ZDNet", "zdnet.com", "article"),
    ("Complex", "complex.com", "dated"),
    ("International Business Times", "ibtimes.com", "slug-id"),
    ("Al Jazeera", "aljazeera.com", "dated"),
    ("France 24", "france24.com", "dated"),
    ("Euronews", "euronews.com", "dated"),
    ("The Independent", "independent.co.uk", "slug-html"),
    ("The Telegraph", "telegraph.co.uk", "dated"),
    ("Financial Review", "afr.com", "slug-id"),
    ("Bloomberg", "bloomberg.com", "news"),
    ("CNBC", "cnbc.com", "dated"),
    ("Fortune", "fortune.com", "dated"),
    ("Forbes", "forbes.com", "sites"),
    ("Business Insider", "businessinsider.com", "slug-id"),
    ("The Hill", "thehill.com", "slug-id"),
    ("Politico Europe", "politico.eu", "article"),
    ("NPR", "npr.org", "dated"),
    ("Science Daily", "sciencedaily.com", "releases"),
    ("New Scientist", "newscientist.com", "article"),
    ("Nature News", "nature.com", "article"),
    ("Scientific American", "scientificamerican.com", "article"),
    ("VentureBeat", "venturebeat.com", "dated"),
    ("The Next Web", "thenextweb.com", "news"),
    ("Gizmodo", "gizmodo.com", "slug-id"),
    ("Mashable", "mashable.com", "article"),
    ("Times of India", "timesofindia.indiatimes.com", "slug-id"),
    ("South China Morning Post", "scmp.com", "news"),
    ("The Japan Times", "japantimes.co.jp", "dated"),
    ("ABC News Australia", "abc.net.au", "dated"),
    ("CBC News", "cbc.ca", "news"),
    ("Le Monde in English", "lemonde.fr", "article"),
)

# topic -> words that headlines about it use
TOPICS: dict[str, tuple[str, ...]] = {
    "AI": ("artificial intelligence", "AI", "machine learning", "algorithm", "chatbot"),
    "Computer Vision": ("facial recognition", "image recognition", "camera", "surveillance"),
    "Robotics": ("robot", "robots", "automation", "drone"),
    "Privacy": ("privacy", "personal data", "tracking", "data protection"),
    "Cybersecurity": ("hackers", "ransomware", "data breach", "vulnerability", "malware"),
    "Climate": ("climate change", "emissions", "heatwave", "carbon", "warming"),
    "Energy": ("solar", "wind power", "oil prices", "power grid", "nuclear plant"),
    "Elections": ("election", "voters", "ballot", "polls", "campaign"),
    "Politics": ("parliament", "government", "minister", "coalition", "senate"),
    "Economy": ("inflation", "recession", "interest rates", "growth", "jobs report"),
    "Markets": ("stocks", "shares", "investors", "bond yields", "Wall Street"),
    "Health": ("hospital", "doctors", "patients", "vaccine", "health officials"),
    "Coronavirus": ("coronavirus", "Covid-19", "lockdown", "pandemic", "outbreak"),
    "Space": ("rocket", "satellite", "astronauts", "moon mission", "Mars"),
    "Science": ("researchers", "study", "scientists", "experiment", "discovery"),
    "Smartphones": ("smartphone", "iPhone", "Android", "mobile phone", "5G"),
    "Social Media": ("Facebook", "Twitter", "TikTok", "Instagram", "social media"),
    "Streaming": ("Netflix", "streaming", "subscribers", "box office", "series"),
    "Gaming": ("video game", "console", "esports", "gamers", "game studio"),
    "Transport": ("electric cars", "airline", "trains", "self-driving cars", "traffic"),
    "Electric Vehicles": ("electric vehicle", "battery", "Tesla", "charging stations"),
    "Education": ("schools", "students", "teachers", "universities", "exams"),
    "Crime": ("police", "court", "arrest", "investigation", "prosecutors"),
    "Justice": ("judge", "lawsuit", "supreme court", "verdict", "ruling"),
    "Immigration": ("migrants", "border", "asylum", "refugees", "visa rules"),
    "Trade": ("tariffs", "trade deal", "exports", "supply chain", "imports"),
    "Banking": ("banks", "central bank", "lenders", "loans", "fintech"),
    "Crypto": ("bitcoin", "cryptocurrency", "blockchain", "crypto exchange"),
    "Startups": ("startup", "funding round", "venture capital", "founders"),
    "Big Tech": ("Google", "Apple", "Amazon", "Microsoft", "tech giants"),
    "Regulation": ("regulators", "antitrust", "new rules", "fine", "watchdog"),
    "Labour": ("workers", "strike", "unions", "wages", "layoffs"),
    "Housing": ("house prices", "rents", "mortgages", "housing market"),
    "Food": ("farmers", "food prices", "restaurants", "harvest", "supermarkets"),
    "Agriculture": ("crops", "farmland", "drought", "livestock", "fertiliser"),
    "Wildlife": ("endangered species", "wildlife", "habitat", "conservation"),
    "Oceans": ("oceans", "coral reef", "plastic waste", "fishing", "sea levels"),
    "Weather": ("storm", "floods", "hurricane", "snow", "forecast"),
    "Disasters": ("earthquake", "wildfires", "evacuation", "rescue teams"),
    "Defence": ("military", "army", "defence ministry", "missile", "troops"),
    "Diplomacy": ("summit", "talks", "sanctions", "ambassador", "treaty"),
    "Europe": ("EU", "Brussels", "European Commission", "eurozone"),
    "Asia": ("China", "India", "Japan", "South Korea", "Beijing"),
    "Africa": ("Nigeria", "Kenya", "South Africa", "African Union"),
    "Americas": ("Brazil", "Mexico", "Canada", "Argentina", "Washington"),
    "Middle East": ("Iran", "Israel", "Saudi Arabia", "Gulf states"),
    "Media": ("newspaper", "journalists", "broadcaster", "press freedom"),
    "Culture": ("museum", "festival", "artists", "exhibition", "film"),
    "Music": ("album", "concert", "singer", "music industry", "tour"),
    "Sport": ("football", "Olympics", "championship", "athletes", "World Cup"),
    "Tennis": ("Wimbledon", "tennis", "Grand Slam", "final"),
    "Football": ("Premier League", "Champions League", "striker", "coach"),
    "Cars": ("carmakers", "recall", "diesel", "car sales"),
    "Chips": ("chipmakers", "semiconductors", "processor", "chip shortage"),
    "Cloud": ("cloud computing", "data centre", "servers", "outage"),
    "Software": ("software update", "app", "open source", "developers"),
    "Internet": ("internet", "broadband", "websites", "online"),
    "Telecoms": ("telecom operators", "mobile network", "spectrum auction"),
    "Retail": ("retailers", "shoppers", "online sales", "Black Friday"),
    "Travel": ("tourism", "travellers", "hotels", "flights", "airports"),
    "Mental Health": ("mental health", "anxiety", "loneliness", "therapy"),
}

SUBJECTS: tuple[str, ...] = (
    "Researchers", "Police", "Regulators", "Scientists", "Officials", "Experts", "Lawmakers",
    "Critics", "Investors", "Campaigners", "Doctors", "Engineers", "Analysts", "Residents",
    "Activists", "Users", "Parents", "Teachers", "Judges", "Economists", "Startups", "Retailers",
)

# verb phrases in the present tense (third person plural / headline form)
VERBS: tuple[str, ...] = (
    "say", "warn", "report", "find", "launch", "plan", "face", "raise", "push", "back",
    "reveal", "call for", "test", "question", "reject", "expect", "unveil", "target", "fear", "probe",
    "defend", "weigh", "cut", "ban", "approve", "delay", "boost", "track", "limit", "challenge",
    "criticise", "embrace", "scrap", "rethink", "outline", "double", "halt", "revive", "tighten", "ease",
)

ADJECTIVES: tuple[str, ...] = (
    "new", "first", "major", "global", "big", "secret", "controversial", "record", "public", "local",
    "national", "digital", "private", "early", "key", "rare", "growing", "surprise", "long-awaited",
    "ambitious", "fragile", "dystopian", "risky", "costly", "landmark", "quiet", "sweeping", "bold",
    "unexpected", "troubling", "historic", "tough", "massive", "hidden", "urgent", "sharp", "modest",
)

NOUNS: tuple[str, ...] = (
    "report", "plan", "data", "deal", "rules", "system", "study", "app", "year", "people",
    "world", "company", "country", "project", "program", "market", "price", "technology", "law",
    "users", "city", "future", "crisis", "tool", "network", "service", "policy", "decision", "risk",
    "platform", "model", "budget", "warning", "investigation", "partnership", "experiment", "scheme",
    "proposal", "framework", "campaign", "shortage", "backlash", "milestone", "loophole", "setback",
    "overhaul", "blueprint", "crackdown", "windfall", "stalemate", "bottleneck", "moratorium",
)

CONNECTORS: tuple[str, ...] = (
    "after", "as", "despite", "amid", "while", "because", "before", "over", "ahead of",
)

PLACES: tuple[str, ...] = (
    "US", "UK", "Germany", "France", "Berlin", "London", "Paris", "New York", "California", "Texas",
    "Tokyo", "Sydney", "Toronto", "Madrid", "Rome", "Warsaw", "Nairobi", "Lagos", "Delhi", "Mumbai",
    "Seoul", "Singapore", "Jakarta", "Cairo", "Istanbul", "Moscow", "Kyiv", "Stockholm", "Oslo",
    "Dublin", "Lisbon", "Vienna", "Zurich", "Brussels", "Amsterdam", "Chicago", "Seattle", "Boston",
    "Melbourne", "Auckland", "Lima", "Bogota", "Santiago", "Manila", "Hanoi", "Dhaka", "Karachi",
)

FIRST_NAMES: tuple[str, ...] = (
    "Anna", "James", "Maria", "David", "Sarah", "Michael", "Laura", "Daniel", "Elena", "Thomas",
    "Aisha", "Kenji", "Priya", "Lucas", "Sofia", "Omar", "Chloe", "Mateo", "Ingrid", "Tariq",
    "Yuki", "Fatima", "Pavel", "Grace", "Hannah", "Samuel", "Leila", "Marco", "Nadia", "Ravi",
)

LAST_NAMES: tuple[str, ...] = (
    "Schmidt", "Johnson", "Garcia", "Kowalski", "Nguyen", "Okafor", "Tanaka", "Rossi", "Dubois",
    "Patel", "Silva", "Andersson", "Murphy", "Cohen", "Haddad", "Ivanova", "Kim", "Lopez", "Moreau",
    "Novak", "Osei", "Petrov", "Quinn", "Reyes", "Sato", "Turner", "Ueda", "Varga", "Weber", "Zhang",
)

# syllables for made-up company names ("Clearview"-like): the long tail of rare words
NAME_HEADS: tuple[str, ...] = (
    "Clear", "Deep", "Blue", "Bright", "Quant", "Nova", "Terra", "Hyper", "Open", "Data", "Smart",
    "Zen", "Core", "Astra", "Vox", "Pixel", "Green", "Iron", "Silver", "Neo", "Omni", "True", "Sky",
)
NAME_TAILS: tuple[str, ...] = (
    "view", "mind", "scale", "works", "labs", "ly", "sense", "path", "loop", "stack", "grid", "wave",
    "forge", "bit", "cast", "field", "line", "mark", "point", "shift", "spark", "vault", "wise",
)

SECTIONS: tuple[str, ...] = (
    "news", "world", "technology", "business", "science", "politics", "environment", "health", "life",
)

CATEGORIES: tuple[tuple[str, float], ...] = (
    ("news", 0.70), ("business", 0.08), ("tech", 0.08), ("science", 0.05), ("opinion", 0.04),
    ("sport", 0.03), ("culture", 0.02),
)
