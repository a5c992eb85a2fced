"""Hand-written aligned lexicon and sentence templates of the synthetic generator.

Every concept is one tuple with its form in each language of ``LANGUAGES``, in that
order, so index ``i`` of a list means the same thing in every language; this alignment
is what lets a model trained on English rows transfer to the other languages.

Entry mini-format (parsed by ``xstilts.data.synthetic``):

- ``"form1|form2|..."`` inflected forms; ``":m"``/``":f"``/``":n"`` suffix = gender (zh:
  the classifier instead).
- ``"Name;spec"`` for places: the nominative name, then the locative phrase spec.
- A *phrase spec* is space-separated tokens ``word/UPOS``; ``[a b]`` marks the head
  tokens (the entity or the answer span), which take the slot's own tag.

Template mini-format: space-separated tokens. ``word/UPOS`` is a literal token,
``{SLOT}`` a slot filled by the generator, ``{k:a|b|c}`` picks form ``keys[k]`` (agreement:
``g`` subject gender, ``a`` animal gender, ``o`` object gender). An optional third field
``/CCG`` gives the English CCG supertag. Questions need no tags (they are never tagged).

Translations were written for this package; they are simple, mostly correct sentences,
not native-quality text (see the limits in ``synthetic``'s module docstring).
"""

from __future__ import annotations

import re
from collections import namedtuple
from functools import cache, partial

# Aligned data tables, one concept per entry, packed by hand.
# fmt: off
LANGUAGES = ("en", "de", "es", "fr", "ru", "zh", "ar", "hi")

SCRIPTS = {"en": "Latin", "de": "Latin", "es": "Latin", "fr": "Latin", "ru": "Cyrillic",
           "zh": "Han", "ar": "Arabic", "hi": "Devanagari"}

# (gender, forms) - names stay in the nominative in every template.
FIRST_NAMES = [
    ("f", ("Maria", "Maria", "María", "Maria", "Мария", "玛丽亚", "ماريا", "मारिया")),
    ("f", ("Anna", "Anna", "Ana", "Anna", "Анна", "安娜", "آنا", "आना")),
    ("f", ("Sofia", "Sophia", "Sofía", "Sophie", "София", "索菲亚", "صوفيا", "सोफ़िया")),
    ("f", ("Elena", "Elena", "Elena", "Hélène", "Елена", "埃琳娜", "إيلينا", "एलेना")),
    ("f", ("Laura", "Laura", "Laura", "Laura", "Лаура", "劳拉", "لورا", "लॉरा")),
    ("f", ("Nina", "Nina", "Nina", "Nina", "Нина", "尼娜", "نينا", "नीना")),
    ("m", ("David", "David", "David", "David", "Давид", "大卫", "ديفيد", "डेविड")),
    ("m", ("Peter", "Peter", "Pedro", "Pierre", "Пётр", "彼得", "بيتر", "पीटर")),
    ("m", ("Thomas", "Thomas", "Tomás", "Thomas", "Томас", "托马斯", "توماس", "थॉमस")),
    ("m", ("Ivan", "Iwan", "Iván", "Ivan", "Иван", "伊万", "إيفان", "इवान")),
    ("m", ("Lucas", "Lukas", "Lucas", "Lucas", "Лукас", "卢卡斯", "لوكاس", "लूकास")),
    ("m", ("Adam", "Adam", "Adán", "Adam", "Адам", "亚当", "آدم", "एडम")),
]

# Surnames chosen to be indeclinable in Russian for women and never used in oblique cases.
SURNAMES = [
    ("Schmidt", "Schmidt", "Schmidt", "Schmidt", "Шмидт", "施密特", "شميت", "श्मिट"),
    ("Garcia", "García", "García", "Garcia", "Гарсия", "加西亚", "غارسيا", "गार्सिया"),
    ("Rossi", "Rossi", "Rossi", "Rossi", "Росси", "罗西", "روسي", "रॉसी"),
    ("Novak", "Novak", "Novak", "Novak", "Новак", "诺瓦克", "نوفاك", "नोवाक"),
    ("Keller", "Keller", "Keller", "Keller", "Келлер", "凯勒", "كيلر", "केलर"),
    ("Moreau", "Moreau", "Moreau", "Moreau", "Моро", "莫罗", "مورو", "मोरो"),
]

# Default locative phrase per language; ``_`` is the place name (head tokens).
LOC_PATTERN = {"en": "in/ADP _", "de": "in/ADP _", "es": "en/ADP _", "fr": "à/ADP _",
               "ru": "в/ADP _", "zh": "在/ADP _", "ar": "في/ADP _", "hi": "_ में/ADP"}

COUNTRIES = {
    "DE": ("Germany", "Deutschland", "Alemania", "Allemagne;en/ADP [Allemagne]",
           "Германия;в/ADP [Германии]", "德国", "ألمانيا", "जर्मनी"),
    "FR": ("France", "Frankreich", "Francia", "France;en/ADP [France]", "Франция;в/ADP [Франции]",
           "法国", "فرنسا", "फ़्रांस"),
    "ES": ("Spain", "Spanien", "España", "Espagne;en/ADP [Espagne]", "Испания;в/ADP [Испании]",
           "西班牙", "إسبانيا", "स्पेन"),
    "IT": ("Italy", "Italien", "Italia", "Italie;en/ADP [Italie]", "Италия;в/ADP [Италии]", "意大利",
           "إيطاليا", "इटली"),
    "RU": ("Russia", "Russland", "Rusia", "Russie;en/ADP [Russie]", "Россия;в/ADP [России]", "俄罗斯",
           "روسيا", "रूस"),
    "JP": ("Japan", "Japan", "Japón", "Japon;au/ADP [Japon]", "Япония;в/ADP [Японии]", "日本",
           "اليابان", "जापान"),
    "EG": ("Egypt", "Ägypten", "Egipto", "Égypte;en/ADP [Égypte]", "Египет;в/ADP [Египте]", "埃及",
           "مصر", "मिस्र"),
    "IN": ("India", "Indien", "India", "Inde;en/ADP [Inde]", "Индия;в/ADP [Индии]", "印度", "الهند",
           "भारत"),
    "AR": ("Argentina", "Argentinien", "Argentina", "Argentine;en/ADP [Argentine]",
           "Аргентина;в/ADP [Аргентине]", "阿根廷", "الأرجنتين", "अर्जेंटीना"),
    "UK": ("United Kingdom;in/ADP the/DET [United Kingdom]", "Großbritannien",
           "Reino Unido;en/ADP el/DET [Reino Unido]", "Royaume-Uni;au/ADP [Royaume-Uni]",
           "Великобритания;в/ADP [Великобритании]", "英国", "المملكة المتحدة", "ब्रिटेन"),
}

# (country, forms); the country list gives the entailment "lives in city => in country".
CITIES = [
    ("DE",
     ("Berlin", "Berlin", "Berlín", "Berlin", "Берлин;в/ADP [Берлине]", "柏林", "برلين", "बर्लिन")),
    ("DE",
     ("Hamburg", "Hamburg", "Hamburgo", "Hambourg", "Гамбург;в/ADP [Гамбурге]", "汉堡", "هامبورغ",
      "हैम्बर्ग")),
    ("FR", ("Paris", "Paris", "París", "Paris", "Париж;в/ADP [Париже]", "巴黎", "باريس", "पेरिस")),
    ("FR", ("Lyon", "Lyon", "Lyon", "Lyon", "Лион;в/ADP [Лионе]", "里昂", "ليون", "ल्योन")),
    ("ES",
     ("Madrid", "Madrid", "Madrid", "Madrid", "Мадрид;в/ADP [Мадриде]", "马德里", "مدريد", "मैड्रिड")),
    ("ES",
     ("Barcelona", "Barcelona", "Barcelona", "Barcelone", "Барселона;в/ADP [Барселоне]", "巴塞罗那",
      "برشلونة", "बार्सिलोना")),
    ("IT", ("Rome", "Rom", "Roma", "Rome", "Рим;в/ADP [Риме]", "罗马", "روما", "रोम")),
    ("IT", ("Milan", "Mailand", "Milán", "Milan", "Милан;в/ADP [Милане]", "米兰", "ميلانو", "मिलान")),
    ("RU",
     ("Moscow", "Moskau", "Moscú", "Moscou", "Москва;в/ADP [Москве]", "莫斯科", "موسكو", "मॉस्को")),
    ("JP", ("Tokyo", "Tokio", "Tokio", "Tokyo", "Токио", "东京", "طوكيو", "टोक्यो")),
    ("EG",
     ("Cairo", "Kairo", "El Cairo", "Le Caire;au/ADP [Caire]", "Каир;в/ADP [Каире]", "开罗",
      "القاهرة", "काहिरा")),
    ("IN",
     ("New Delhi", "Neu-Delhi", "Nueva Delhi", "New Delhi", "Нью-Дели", "新德里", "نيو دلهي",
      "नई दिल्ली")),
    ("IN", ("Mumbai", "Mumbai", "Bombay", "Bombay", "Мумбаи", "孟买", "مومباي", "मुंबई")),
    ("AR",
     ("Buenos Aires", "Buenos Aires", "Buenos Aires", "Buenos Aires",
      "Буэнос-Айрес;в/ADP [Буэнос-Айресе]", "布宜诺斯艾利斯", "بوينس آيرس", "ब्यूनस आयर्स")),
    ("UK",
     ("London", "London", "Londres", "Londres", "Лондон;в/ADP [Лондоне]", "伦敦", "لندن", "लंदन")),
]

ORGS = [
    ("Orion Motors", "Orion Motors", "Orion Motors", "Orion Motors", "Орион Моторс", "猎户座 汽车",
     "أوريون موتورز", "ओरियन मोटर्स"),
    ("Atlas Bank", "Atlas Bank", "Banco Atlas", "Banque Atlas", "Атлас Банк", "阿特拉斯 银行", "بنك أطلس",
     "एटलस बैंक"),
    ("Nova Airlines", "Nova Airlines", "Nova Airlines", "Nova Airlines", "Нова Эйрлайнс", "诺瓦 航空",
     "نوفا إيرلاينز", "नोवा एयरलाइंस"),
    ("Delta Foods", "Delta Foods", "Delta Foods", "Delta Foods", "Дельта Фудс", "德尔塔 食品",
     "دلتا فودز", "डेल्टा फ़ूड्स"),
    ("Polar Energy", "Polar Energy", "Polar Energy", "Polar Energy", "Полар Энерджи", "极地 能源",
     "بولار إنرجي", "पोलर एनर्जी"),
    ("Zenith Media", "Zenith Media", "Zenith Media", "Zenith Media", "Зенит Медиа", "天顶 传媒",
     "زينيث ميديا", "ज़ेनिथ मीडिया"),
]

# Professions (m|f; ar: m|f|m-accusative) and the typical activity (ar/hi: m|f), which
# the multiple-choice tasks and the NLI "baker => bakes bread" entailment rely on.
PROFESSIONS = [
    (("doctor", "Arzt|Ärztin", "médico|médica", "médecin", "врач", "医生", "طبيب|طبيبة|طبيبًا",
      "डॉक्टर"),
     ("treats patients", "behandelt Patienten", "atiende a pacientes", "soigne des patients",
      "лечит пациентов", "给 病人 看病", "يعالج المرضى|تعالج المرضى",
      "मरीज़ों का इलाज करता है|मरीज़ों का इलाज करती है")),
    (("teacher", "Lehrer|Lehrerin", "profesor|profesora", "enseignant|enseignante",
      "учитель|учительница", "老师", "معلم|معلمة|معلمًا", "अध्यापक|अध्यापिका"),
     ("teaches children", "unterrichtet Kinder", "enseña a niños", "enseigne aux enfants",
      "учит детей", "教 孩子", "يعلم الأطفال|تعلم الأطفال", "बच्चों को पढ़ाता है|बच्चों को पढ़ाती है")),
    (("baker", "Bäcker|Bäckerin", "panadero|panadera", "boulanger|boulangère", "пекарь", "面包师",
      "خباز|خبازة|خبازًا", "नानबाई"),
     ("bakes bread", "backt Brot", "hornea pan", "fait du pain", "печёт хлеб", "烤 面包",
      "يخبز الخبز|تخبز الخبز", "रोटी बनाता है|रोटी बनाती है")),
    (("driver", "Fahrer|Fahrerin", "conductor|conductora", "chauffeur|chauffeuse", "водитель", "司机",
      "سائق|سائقة|سائقًا", "ड्राइवर"),
     ("drives a bus", "fährt einen Bus", "conduce un autobús", "conduit un bus", "водит автобус",
      "开 公交车", "يقود حافلة|تقود حافلة", "बस चलाता है|बस चलाती है")),
    (("farmer", "Bauer|Bäuerin", "granjero|granjera", "agriculteur|agricultrice", "фермер", "农民",
      "مزارع|مزارعة|مزارعًا", "किसान"),
     ("grows vegetables", "baut Gemüse an", "cultiva verduras", "cultive des légumes",
      "выращивает овощи", "种 蔬菜", "يزرع الخضروات|تزرع الخضروات",
      "सब्ज़ियाँ उगाता है|सब्ज़ियाँ उगाती है")),
    (("pilot", "Pilot|Pilotin", "piloto", "pilote", "пилот", "飞行员", "طيار|طيارة|طيارًا", "पायलट"),
     ("flies planes", "fliegt Flugzeuge", "pilota aviones", "pilote des avions",
      "управляет самолётами", "驾驶 飞机", "يقود الطائرات|تقود الطائرات",
      "हवाई जहाज़ उड़ाता है|हवाई जहाज़ उड़ाती है")),
    (("mechanic", "Mechaniker|Mechanikerin", "mecánico|mecánica", "mécanicien|mécanicienne",
      "механик", "机械师", "ميكانيكي|ميكانيكية|ميكانيكيًا", "मैकेनिक"),
     ("repairs cars", "repariert Autos", "repara coches", "répare des voitures", "чинит машины",
      "修理 汽车", "يصلح السيارات|تصلح السيارات", "गाड़ियाँ ठीक करता है|गाड़ियाँ ठीक करती है")),
    (("musician", "Musiker|Musikerin", "músico|música", "musicien|musicienne", "музыкант", "音乐家",
      "موسيقي|موسيقية|موسيقيًا", "संगीतकार"),
     ("plays music", "spielt Musik", "toca música", "joue de la musique", "играет музыку", "演奏 音乐",
      "يعزف الموسيقى|تعزف الموسيقى", "संगीत बजाता है|संगीत बजाती है")),
    (("writer", "Schriftsteller|Schriftstellerin", "escritor|escritora", "écrivain|écrivaine",
      "писатель|писательница", "作家", "كاتب|كاتبة|كاتبًا", "लेखक|लेखिका"),
     ("writes books", "schreibt Bücher", "escribe libros", "écrit des livres", "пишет книги", "写 书",
      "يكتب الكتب|تكتب الكتب", "किताबें लिखता है|किताबें लिखती है")),
    (("cook", "Koch|Köchin", "cocinero|cocinera", "cuisinier|cuisinière", "повар", "厨师",
      "طباخ|طباخة|طباخًا", "रसोइया"),
     ("cooks meals", "kocht Essen", "cocina comidas", "prépare des repas", "готовит еду", "做 饭",
      "يطبخ الطعام|تطبخ الطعام", "खाना पकाता है|खाना पकाती है")),
]

# Countable objects: en sg|pl; ru nom.sg|gen.sg|nom.pl|gen.pl (numeral government);
# ar sg|pl with the singular's gender (numeral polarity); zh noun:classifier.
NOUN_CATEGORIES = ("fruit", "vegetable", "vehicle", "animal")

NOUNS = [
    ("fruit",
     ("apple|apples", "Apfel|Äpfel:m", "manzana|manzanas:f", "pomme|pommes:f",
      "яблоко|яблока|яблоки|яблок", "苹果:个", "تفاحة|تفاحات:f", "सेब|सेब:m")),
    ("fruit",
     ("banana|bananas", "Banane|Bananen:f", "plátano|plátanos:m", "banane|bananes:f",
      "банан|банана|бананы|бананов", "香蕉:根", "موزة|موزات:f", "केला|केले:m")),
    ("fruit",
     ("orange|oranges", "Orange|Orangen:f", "naranja|naranjas:f", "orange|oranges:f",
      "апельсин|апельсина|апельсины|апельсинов", "橙子:个", "برتقالة|برتقالات:f", "संतरा|संतरे:m")),
    ("vegetable",
     ("carrot|carrots", "Karotte|Karotten:f", "zanahoria|zanahorias:f", "carotte|carottes:f",
      "морковка|морковки|морковки|морковок", "胡萝卜:根", "جزرة|جزرات:f", "गाजर|गाजरें:f")),
    ("vegetable",
     ("onion|onions", "Zwiebel|Zwiebeln:f", "cebolla|cebollas:f", "oignon|oignons:m",
      "луковица|луковицы|луковицы|луковиц", "洋葱:个", "بصلة|بصلات:f", "प्याज़|प्याज़:m")),
    ("vegetable",
     ("cucumber|cucumbers", "Gurke|Gurken:f", "pepino|pepinos:m", "concombre|concombres:m",
      "огурец|огурца|огурцы|огурцов", "黄瓜:根", "خيارة|خيارات:f", "खीरा|खीरे:m")),
    ("vehicle",
     ("car|cars", "Auto|Autos:n", "coche|coches:m", "voiture|voitures:f",
      "машина|машины|машины|машин", "汽车:辆", "سيارة|سيارات:f", "कार|कारें:f")),
    ("vehicle",
     ("bicycle|bicycles", "Fahrrad|Fahrräder:n", "bicicleta|bicicletas:f", "vélo|vélos:m",
      "велосипед|велосипеда|велосипеды|велосипедов", "自行车:辆", "دراجة|دراجات:f",
      "साइकिल|साइकिलें:f")),
    ("vehicle",
     ("boat|boats", "Boot|Boote:n", "barco|barcos:m", "bateau|bateaux:m", "лодка|лодки|лодки|лодок",
      "船:条", "قارب|قوارب:m", "नाव|नावें:f")),
]

ANIMALS = [
    ("dog", "Hund:m", "perro:m", "chien:m", "собака:f", "狗", "كلب:m", "कुत्ता:m"),
    ("cat", "Katze:f", "gato:m", "chat:m", "кошка:f", "猫", "قطة:f", "बिल्ली:f"),
    ("horse", "Pferd:n", "caballo:m", "cheval:m", "лошадь:f", "马", "حصان:m", "घोड़ा:m"),
    ("cow", "Kuh:f", "vaca:f", "vache:f", "корова:f", "牛", "بقرة:f", "गाय:f"),
    ("bird", "Vogel:m", "pájaro:m", "oiseau:m", "птица:f", "鸟", "طائر:m", "चिड़िया:f"),
    ("rabbit", "Kaninchen:n", "conejo:m", "lapin:m", "кролик:m", "兔子", "أرنب:m", "खरगोश:m"),
]

CATEGORY_NAMES = {
    "fruit": ("a fruit", "eine Frucht", "una fruta", "un fruit", "фрукт", "水果", "فاكهة", "फल"),
    "vegetable": ("a vegetable", "ein Gemüse", "una verdura", "un légume", "овощ", "蔬菜", "خضار",
                  "सब्ज़ी"),
    "vehicle": ("a vehicle", "ein Fahrzeug", "un vehículo", "un véhicule", "транспортное средство",
                "交通工具", "مركبة", "वाहन"),
    "animal": ("an animal", "ein Tier", "un animal", "un animal", "животное", "动物", "حيوان",
               "जानवर"),
}

# Antonym pairs of predicative adjectives: ru m|f|n; ar m|f|m-acc|f-acc (after laysa).
ADJ_PAIRS = [
    (("big", "groß", "grande", "grand|grande", "большой|большая|большое", "大",
      "كبير|كبيرة|كبيرًا|كبيرة", "बड़ा|बड़ी"),
     ("small", "klein", "pequeño|pequeña", "petit|petite", "маленький|маленькая|маленькое", "小",
      "صغير|صغيرة|صغيرًا|صغيرة", "छोटा|छोटी")),
    (("fast", "schnell", "rápido|rápida", "rapide", "быстрый|быстрая|быстрое", "快",
      "سريع|سريعة|سريعًا|سريعة", "तेज़"),
     ("slow", "langsam", "lento|lenta", "lent|lente", "медленный|медленная|медленное", "慢",
      "بطيء|بطيئة|بطيئًا|بطيئة", "धीमा|धीमी")),
    (("happy", "glücklich", "feliz", "heureux|heureuse", "весёлый|весёлая|весёлое", "高兴",
      "سعيد|سعيدة|سعيدًا|سعيدة", "खुश"),
     ("sad", "traurig", "triste", "triste", "грустный|грустная|грустное", "难过",
      "حزين|حزينة|حزينًا|حزينة", "उदास")),
    (("clean", "sauber", "limpio|limpia", "propre", "чистый|чистая|чистое", "干净",
      "نظيف|نظيفة|نظيفًا|نظيفة", "साफ़"),
     ("dirty", "schmutzig", "sucio|sucia", "sale", "грязный|грязная|грязное", "脏",
      "متسخ|متسخة|متسخًا|متسخة", "गंदा|गंदी")),
]

# Comparatives (es/fr/hi agree with the subject: m|f). Pair = (more, less) of one scale.
CMP_PAIRS = [
    (("taller", "größer", "más alto|más alta", "plus grand|plus grande", "выше", "高", "أطول",
      "लंबा|लंबी"),
     ("shorter", "kleiner", "más bajo|más baja", "plus petit|plus petite", "ниже", "矮", "أقصر",
      "नाटा|नाटी")),
    (("older", "älter", "mayor", "plus âgé|plus âgée", "старше", "大", "أكبر", "बड़ा|बड़ी"),
     ("younger", "jünger", "menor", "plus jeune", "младше", "小", "أصغر", "छोटा|छोटी")),
    (("richer", "reicher", "más rico|más rica", "plus riche", "богаче", "富有", "أغنى", "अमीर"),
     ("poorer", "ärmer", "más pobre", "plus pauvre", "беднее", "贫穷", "أفقر", "गरीब")),
    (("faster", "schneller", "más rápido|más rápida", "plus rapide", "быстрее", "快", "أسرع",
      "तेज़"),
     ("slower", "langsamer", "más lento|más lenta", "plus lent|plus lente", "медленнее", "慢",
      "أبطأ", "धीमा|धीमी")),
]

# Plural attributive colours: es/fr/hi m|f; ru nom.pl|gen.pl; ar non-human plural (f.sg).
COLOURS = [
    ("red", "rote", "rojos|rojas", "rouges", "красные|красных", "红色", "حمراء", "लाल"),
    ("green", "grüne", "verdes", "verts|vertes", "зелёные|зелёных", "绿色", "خضراء", "हरे|हरी"),
    ("blue", "blaue", "azules", "bleus|bleues", "синие|синих", "蓝色", "زرقاء", "नीले|नीली"),
    ("yellow", "gelbe", "amarillos|amarillas", "jaunes", "жёлтые|жёлтых", "黄色", "صفراء",
     "पीले|पीली"),
    ("black", "schwarze", "negros|negras", "noirs|noires", "чёрные|чёрных", "黑色", "سوداء",
     "काले|काली"),
    ("white", "weiße", "blancos|blancas", "blancs|blanches", "белые|белых", "白色", "بيضاء", "सफ़ेद"),
]

# 3..6 only: avoids the Arabic dual and Russian "два/две"; ar: with m-noun|with f-noun.
NUMBERS = {
    3: ("three", "drei", "tres", "trois", "три", "三", "ثلاثة|ثلاث", "तीन"),
    4: ("four", "vier", "cuatro", "quatre", "четыре", "四", "أربعة|أربع", "चार"),
    5: ("five", "fünf", "cinco", "cinq", "пять", "五", "خمسة|خمس", "पाँच"),
    6: ("six", "sechs", "seis", "six", "шесть", "六", "ستة|ست", "छह"),
}

# en past|base; ru m|f; ar m|f|m-jussive|f-jussive; hi perfective agreeing with the
# (always plural) object: m|f.
VERBS = [
    ("bought|buy", "kaufte", "compró", "acheté", "купил|купила", "买", "اشترى|اشترت|يشترِ|تشترِ",
     "खरीदे|खरीदीं"),
    ("sold|sell", "verkaufte", "vendió", "vendu", "продал|продала", "卖", "باع|باعت|يبع|تبع",
     "बेचे|बेचीं"),
    ("saw|see", "sah", "vio", "vu", "увидел|увидела", "看到", "رأى|رأت|يرَ|ترَ", "देखे|देखीं"),
]

DAYS = [
    ("on/ADP [Monday]", "am/ADP [Montag]", "el/DET [lunes]", "[lundi]", "в/ADP [понедельник]",
     "[星期一]", "يوم/NOUN [الاثنين]", "[सोमवार] को/ADP"),
    ("on/ADP [Tuesday]", "am/ADP [Dienstag]", "el/DET [martes]", "[mardi]", "во/ADP [вторник]",
     "[星期二]", "يوم/NOUN [الثلاثاء]", "[मंगलवार] को/ADP"),
    ("on/ADP [Wednesday]", "am/ADP [Mittwoch]", "el/DET [miércoles]", "[mercredi]", "в/ADP [среду]",
     "[星期三]", "يوم/NOUN [الأربعاء]", "[बुधवार] को/ADP"),
    ("on/ADP [Thursday]", "am/ADP [Donnerstag]", "el/DET [jueves]", "[jeudi]", "в/ADP [четверг]",
     "[星期四]", "يوم/NOUN [الخميس]", "[गुरुवार] को/ADP"),
    ("on/ADP [Friday]", "am/ADP [Freitag]", "el/DET [viernes]", "[vendredi]", "в/ADP [пятницу]",
     "[星期五]", "يوم/NOUN [الجمعة]", "[शुक्रवार] को/ADP"),
]

CONJ = {"en": "and/CCONJ", "de": "und/CCONJ", "es": "y/CCONJ", "fr": "et/CCONJ",
        "ru": ",/PUNCT а/CCONJ", "zh": "，/PUNCT", "ar": "و/CCONJ", "hi": "और/CCONJ"}

# Prefix for the Arabic definite article on animals (stored bare for the choice lists).
AR_DEF = "ال"

TEMPLATES: dict[str, dict[str, str]] = {
    "en": {
        "buy": r"{P} {V}/VERB/(S[dcl]\NP)/NP {OBJ} {DAY} ./PUNCT",
        "buy_neg": r"{P} did/AUX/(S[dcl]\NP)/(S[b]\NP) not/PART/(S\NP)\(S\NP) {V}/VERB/(S[b]\NP)/NP {OBJ} {DAY} ./PUNCT",
        "live": r"{P} lives/VERB/S[dcl]\NP {LOC} ./PUNCT",
        "live_neg": r"{P} does/AUX/(S[dcl]\NP)/(S[b]\NP) not/PART/(S\NP)\(S\NP) live/VERB/S[b]\NP {LOC} ./PUNCT",
        "job": r"{P} is/AUX/(S[dcl]\NP)/NP a/DET {JOB}/NOUN ./PUNCT",
        "job_neg": r"{P} is/AUX/(S[dcl]\NP)/NP not/PART/(S\NP)\(S\NP) a/DET {JOB}/NOUN ./PUNCT",
        "work": r"{P} works/VERB/S[dcl]\NP at/ADP {ORG} ./PUNCT",
        "animal": r"The/DET {A}/NOUN is/AUX/(S[dcl]\NP)/(S[adj]\NP) {ADJ}/ADJ/S[adj]\NP ./PUNCT",
        "animal_neg": r"The/DET {A}/NOUN is/AUX/(S[dcl]\NP)/(S[adj]\NP) not/PART/(S\NP)\(S\NP) {ADJ}/ADJ/S[adj]\NP ./PUNCT",
        "cmp": r"{X} is/AUX/(S[dcl]\NP)/(S[adj]\NP) {CMP}/ADJ/(S[adj]\NP)/PP than/ADP/PP/NP {Y} ./PUNCT",
        "act": "{P} {ACT} .", "q_live": "Where does {P} live ?",
        "q_city": "In which city does {P} live ?", "q_work": "Where does {P} work ?",
        "q_who_buy": "Who {V} {OBJ} ?", "q_when": "On which day did {P} {V} {OBJ} ?",
        "q_many": "How many {N} did {P} {V} ?", "q_job": "What is {P} 's job ?",
        "q_cmp": "Is {X} {CMP} than {Y} ?", "q_cat": "Which of these is {CAT} ?",
        "q_who_act": "Who {ACT} ?", "q_country": "In which country is {CITY} ?",
        "q_who_country": "Who lives {LOC} ?", "q_country_of": "In which country does {P} live ?",
        "stem": "Every day",
    },
    "de": {
        "buy": "{P} {V}/VERB {DAY} {OBJ} ./PUNCT",
        "buy_neg": "{P} {V}/VERB {DAY} keine/DET {OBJ} ./PUNCT",
        "live": "{P} wohnt/VERB {LOC} ./PUNCT",
        "live_neg": "{P} wohnt/VERB nicht/PART {LOC} ./PUNCT",
        "job": "{P} ist/AUX {JOB}/NOUN ./PUNCT",
        "job_neg": "{P} ist/AUX {g:kein|keine}/DET {JOB}/NOUN ./PUNCT",
        "work": "{P} arbeitet/VERB bei/ADP {ORG} ./PUNCT",
        "animal": "{a:Der|Die|Das}/DET {A}/NOUN ist/AUX {ADJ}/ADJ ./PUNCT",
        "animal_neg": "{a:Der|Die|Das}/DET {A}/NOUN ist/AUX nicht/PART {ADJ}/ADJ ./PUNCT",
        "cmp": "{X} ist/AUX {CMP}/ADJ als/ADP {Y} ./PUNCT", "act": "{P} {ACT} .",
        "q_live": "Wo wohnt {P} ?", "q_city": "In welcher Stadt wohnt {P} ?",
        "q_work": "Wo arbeitet {P} ?", "q_who_buy": "Wer {V} {OBJ} ?",
        "q_when": "An welchem Tag {V} {P} {OBJ} ?", "q_many": "Wie viele {N} {V} {P} ?",
        "q_job": "Was ist {P} von Beruf ?", "q_cmp": "Ist {X} {CMP} als {Y} ?",
        "q_cat": "Was davon ist {CAT} ?", "q_who_act": "Wer {ACT} ?",
        "q_country": "In welchem Land liegt {CITY} ?", "q_who_country": "Wer wohnt {LOC} ?",
        "q_country_of": "In welchem Land wohnt {P} ?", "stem": "Jeden Tag",
    },
    "es": {
        "buy": "{P} {V}/VERB {OBJ} {DAY} ./PUNCT",
        "buy_neg": "{P} no/ADV {V}/VERB {OBJ} {DAY} ./PUNCT", "live": "{P} vive/VERB {LOC} ./PUNCT",
        "live_neg": "{P} no/ADV vive/VERB {LOC} ./PUNCT", "job": "{P} es/AUX {JOB}/NOUN ./PUNCT",
        "job_neg": "{P} no/ADV es/AUX {JOB}/NOUN ./PUNCT",
        "work": "{P} trabaja/VERB en/ADP {ORG} ./PUNCT",
        "animal": "{a:El|La}/DET {A}/NOUN es/AUX {ADJ}/ADJ ./PUNCT",
        "animal_neg": "{a:El|La}/DET {A}/NOUN no/ADV es/AUX {ADJ}/ADJ ./PUNCT",
        "cmp": "{X} es/AUX {CMP}/ADJ que/SCONJ {Y} ./PUNCT", "act": "{P} {ACT} .",
        "q_live": "¿ Dónde vive {P} ?", "q_city": "¿ En qué ciudad vive {P} ?",
        "q_work": "¿ Dónde trabaja {P} ?", "q_who_buy": "¿ Quién {V} {OBJ} ?",
        "q_when": "¿ Qué día {V} {P} {OBJ} ?", "q_many": "¿ {o:Cuántos|Cuántas} {N} {V} {P} ?",
        "q_job": "¿ Cuál es la profesión de {P} ?", "q_cmp": "¿ Es {X} {CMP} que {Y} ?",
        "q_cat": "¿ Cuál de estos es {CAT} ?", "q_who_act": "¿ Quién {ACT} ?",
        "q_country": "¿ En qué país está {CITY} ?", "q_who_country": "¿ Quién vive {LOC} ?",
        "q_country_of": "¿ En qué país vive {P} ?", "stem": "Todos los días",
    },
    "fr": {
        "buy": "{P} a/AUX {V}/VERB {OBJ} {DAY} ./PUNCT",
        "buy_neg": "{P} ne/ADV a/AUX pas/ADV {V}/VERB {OBJ} {DAY} ./PUNCT",
        "live": "{P} habite/VERB {LOC} ./PUNCT",
        "live_neg": "{P} ne/ADV habite/VERB pas/ADV {LOC} ./PUNCT",
        "job": "{P} est/AUX {JOB}/NOUN ./PUNCT",
        "job_neg": "{P} ne/ADV est/AUX pas/ADV {JOB}/NOUN ./PUNCT",
        "work": "{P} travaille/VERB chez/ADP {ORG} ./PUNCT",
        "animal": "{a:Le|La}/DET {A}/NOUN est/AUX {ADJ}/ADJ ./PUNCT",
        "animal_neg": "{a:Le|La}/DET {A}/NOUN ne/ADV est/AUX pas/ADV {ADJ}/ADJ ./PUNCT",
        "cmp": "{X} est/AUX {CMP}/ADJ que/SCONJ {Y} ./PUNCT", "act": "{P} {ACT} .",
        "q_live": "Où habite {P} ?", "q_city": "Dans quelle ville habite {P} ?",
        "q_work": "Où travaille {P} ?", "q_who_buy": "Qui a {V} {OBJ} ?",
        "q_when": "Quel jour {P} {g:a-t-il|a-t-elle} {V} {OBJ} ?",
        "q_many": "Combien de {N} {P} {g:a-t-il|a-t-elle} {V} ?",
        "q_job": "Quelle est la profession de {P} ?", "q_cmp": "Est-ce que {X} est {CMP} que {Y} ?",
        "q_cat": "Lequel de ces mots désigne {CAT} ?", "q_who_act": "Qui {ACT} ?",
        "q_country": "Dans quel pays se trouve {CITY} ?", "q_who_country": "Qui habite {LOC} ?",
        "q_country_of": "Dans quel pays habite {P} ?", "stem": "Chaque jour",
    },
    "ru": {
        "buy": "{P} {V}/VERB {OBJ} {DAY} ./PUNCT",
        "buy_neg": "{P} не/PART {V}/VERB {OBJ} {DAY} ./PUNCT",
        "live": "{P} живёт/VERB {LOC} ./PUNCT", "live_neg": "{P} не/PART живёт/VERB {LOC} ./PUNCT",
        "job": "{P} —/PUNCT {JOB}/NOUN ./PUNCT", "job_neg": "{P} не/PART {JOB}/NOUN ./PUNCT",
        "work": "{P} работает/VERB в/ADP компании/NOUN {ORG} ./PUNCT",
        "animal": "{A}/NOUN {ADJ}/ADJ ./PUNCT", "animal_neg": "{A}/NOUN не/PART {ADJ}/ADJ ./PUNCT",
        "cmp": "{X} {CMP}/ADJ ,/PUNCT чем/SCONJ {Y} ./PUNCT", "act": "{P} {ACT} .",
        "q_live": "Где живёт {P} ?", "q_city": "В каком городе живёт {P} ?",
        "q_work": "Где работает {P} ?", "q_who_buy": "Кто {V} {OBJ} ?",
        "q_when": "В какой день {P} {V} {OBJ} ?", "q_many": "Сколько {N} {V} {P} ?",
        "q_job": "Кем работает {P} ?", "q_cmp": "{X} {CMP} , чем {Y} ?",
        "q_cat": "Что из этого — {CAT} ?", "q_who_act": "Кто {ACT} ?",
        "q_country": "В какой стране находится {CITY} ?", "q_who_country": "Кто живёт {LOC} ?",
        "q_country_of": "В какой стране живёт {P} ?", "stem": "Каждый день",
    },
    "zh": {
        "buy": "{P} {DAY} {V}/VERB 了/PART {OBJ} 。/PUNCT",
        "buy_neg": "{P} {DAY} 没有/ADV {V}/VERB {OBJ} 。/PUNCT", "live": "{P} 住/VERB {LOC} 。/PUNCT",
        "live_neg": "{P} 不/ADV 住/VERB {LOC} 。/PUNCT", "job": "{P} 是/AUX {JOB}/NOUN 。/PUNCT",
        "job_neg": "{P} 不/ADV 是/AUX {JOB}/NOUN 。/PUNCT", "work": "{P} 在/ADP {ORG} 工作/VERB 。/PUNCT",
        "animal": "{A}/NOUN 很/ADV {ADJ}/ADJ 。/PUNCT",
        "animal_neg": "{A}/NOUN 不/ADV {ADJ}/ADJ 。/PUNCT", "cmp": "{X} 比/ADP {Y} {CMP}/ADJ 。/PUNCT",
        "act": "{P} {ACT} 。", "q_live": "{P} 住 在 哪里 ？", "q_city": "{P} 住 在 哪个 城市 ？",
        "q_work": "{P} 在 哪里 工作 ？", "q_who_buy": "谁 {V} 了 {OBJ} ？",
        "q_when": "{P} 哪 天 {V} 了 {OBJ} ？", "q_many": "{P} {V} 了 几 {CL} {N} ？",
        "q_job": "{P} 的 职业 是 什么 ？", "q_cmp": "{X} 比 {Y} {CMP} 吗 ？", "q_cat": "下面 哪 一个 是 {CAT} ？",
        "q_who_act": "谁 {ACT} ？", "q_country": "{CITY} 在 哪个 国家 ？", "q_who_country": "谁 住 {LOC} ？",
        "q_country_of": "{P} 住 在 哪个 国家 ？", "stem": "每天",
    },
    "ar": {
        "buy": "{P} {V}/VERB {OBJ} {DAY} ./PUNCT",
        "buy_neg": "{P} لم/PART {V}/VERB {OBJ} {DAY} ./PUNCT",
        "live": "{P} {g:يعيش|تعيش}/VERB {LOC} ./PUNCT",
        "live_neg": "{P} لا/PART {g:يعيش|تعيش}/VERB {LOC} ./PUNCT", "job": "{P} {JOB}/NOUN ./PUNCT",
        "job_neg": "{P} {g:ليس|ليست}/AUX {JOB}/NOUN ./PUNCT",
        "work": "{P} {g:يعمل|تعمل}/VERB في/ADP {ORG} ./PUNCT",
        "animal": "{A}/NOUN {ADJ}/ADJ ./PUNCT",
        "animal_neg": "{A}/NOUN {a:ليس|ليست}/AUX {ADJ}/ADJ ./PUNCT",
        "cmp": "{X} {CMP}/ADJ من/ADP {Y} ./PUNCT", "act": "{P} {ACT} .",
        "q_live": "أين {g:يعيش|تعيش} {P} ؟", "q_city": "في أي مدينة {g:يعيش|تعيش} {P} ؟",
        "q_work": "أين {g:يعمل|تعمل} {P} ؟", "q_who_buy": "من {V} {OBJ} ؟",
        "q_when": "في أي يوم {V} {P} {OBJ} ؟", "q_many": "كم {N} {V} {P} ؟",
        "q_job": "ما مهنة {P} ؟", "q_cmp": "هل {X} {CMP} من {Y} ؟", "q_cat": "أي من هذه {CAT} ؟",
        "q_who_act": "من {ACT} ؟", "q_country": "في أي بلد تقع {CITY} ؟",
        "q_who_country": "من يعيش {LOC} ؟", "q_country_of": "في أي بلد {g:يعيش|تعيش} {P} ؟",
        "stem": "كل يوم",
    },
    "hi": {
        "buy": "{P} ने/ADP {DAY} {OBJ} {V}/VERB ।/PUNCT",
        "buy_neg": "{P} ने/ADP {DAY} {OBJ} नहीं/PART {V}/VERB ।/PUNCT",
        "live": "{P} {LOC} {g:रहता|रहती}/VERB है/AUX ।/PUNCT",
        "live_neg": "{P} {LOC} नहीं/PART {g:रहता|रहती}/VERB ।/PUNCT",
        "job": "{P} {JOB}/NOUN है/AUX ।/PUNCT",
        "job_neg": "{P} {JOB}/NOUN नहीं/PART है/AUX ।/PUNCT",
        "work": "{P} {ORG} में/ADP काम/NOUN {g:करता|करती}/VERB है/AUX ।/PUNCT",
        "animal": "{A}/NOUN {ADJ}/ADJ है/AUX ।/PUNCT",
        "animal_neg": "{A}/NOUN {ADJ}/ADJ नहीं/PART है/AUX ।/PUNCT",
        "cmp": "{X} {Y} से/ADP {CMP}/ADJ है/AUX ।/PUNCT", "act": "{P} {ACT} ।",
        "q_live": "{P} कहाँ {g:रहता|रहती} है ?", "q_city": "{P} किस शहर में {g:रहता|रहती} है ?",
        "q_work": "{P} कहाँ काम {g:करता|करती} है ?", "q_who_buy": "किसने {OBJ} {V} ?",
        "q_when": "{P} ने किस दिन {OBJ} {V} ?", "q_many": "{P} ने {o:कितने|कितनी} {N} {V} ?",
        "q_job": "{P} का पेशा क्या है ?", "q_cmp": "क्या {X} {Y} से {CMP} है ?",
        "q_cat": "इनमें से कौन {CAT} है ?", "q_who_act": "कौन {ACT} ?",
        "q_country": "{CITY} किस देश में है ?", "q_who_country": "कौन {LOC} रहता है ?",
        "q_country_of": "{P} किस देश में {g:रहता|रहती} है ?", "stem": "हर दिन",
    },
}
# fmt: on


# ==================================================================== grammar
# The small engine that turns lexicon entries and templates into tagged tokens.
Tok = namedtuple("Tok", "text upos ent ccg role")
LANG_INDEX = {lang: i for i, lang in enumerate(LANGUAGES)}
GENDER = {"m": 0, "f": 1, "n": 2}
_ATTACH_LEFT = {".", ",", "?", "!", "。", "，", "？", "؟", "،", "।", "'s"}
_ATTACH_RIGHT = {"¿", "¡", "و"}
_ELIDE = {"de", "que", "le", "la", "ne"}
_VOWEL = re.compile(r"^[aeiouyéèêàâîôûh]", re.IGNORECASE)
_SPEC = re.compile(r"\[([^\]]+)\]|(\S+)")


# ---------------------------------------------------------------- lexicon access
@cache
def entry(raw: str) -> tuple[tuple[str, ...], str | None]:
    """Split an entry ``"f1|f2:attr"`` into its forms and attribute (gender/classifier)."""
    forms, _, attr = raw.partition(":")
    return tuple(forms.split("|")), attr or None


def pick(forms: tuple[str, ...], i: int) -> str:
    """Return form ``i``, clamped: entries list only the forms a language distinguishes."""
    return forms[min(i, len(forms) - 1)]


def tok(text: str, upos: str | None = None, role: str | None = None) -> Tok:
    """Make a token outside any named entity."""
    return Tok(text, upos, "O", None, role)


@cache
def phrase(spec: str, head_tag: str, ent: str | None, role: str | None) -> tuple[Tok, ...]:
    """Parse a phrase spec; ``[head]`` tokens get ``head_tag``, the entity type and ``role``."""
    out = []
    for m in _SPEC.finditer(spec):
        if m.group(1):
            for k, w in enumerate(m.group(1).split()):
                iob = f"{'B' if k == 0 else 'I'}-{ent}" if ent else "O"
                out.append(Tok(w, head_tag, iob, None, role))
        else:
            w, _, tag = m.group(2).partition("/")
            out.append(tok(w, tag or None))
    return tuple(out)


def gender(p: tuple) -> int:
    """Grammatical gender index (0 m, 1 f) of person ``p = (first, surname|None)``."""
    return GENDER[FIRST_NAMES[p[0]][0]]


def person(lang: str, p: tuple, role: str = "P") -> list[Tok]:
    """Tokens of a person's name (zh separates first and last name with ``·``)."""
    li = LANG_INDEX[lang]
    names = [FIRST_NAMES[p[0]][1][li]]
    if p[1] is not None:
        names += (["·"] if lang == "zh" else []) + [SURNAMES[p[1]][li]]
    return [
        Tok(w, "PUNCT" if w == "·" else "PROPN", "I-PER" if k else "B-PER", None, role)
        for k, w in enumerate(names)
    ]


def place(lang: str, where: tuple) -> tuple[str, str]:
    """Return (nominative name, locative phrase spec) of ``("city", i)`` or ``("country", k)``."""
    kind, key = where
    raw = (CITIES[key][1] if kind == "city" else COUNTRIES[key])[LANG_INDEX[lang]]
    nom, _, spec = raw.partition(";")
    return nom, spec or LOC_PATTERN[lang].replace("_", f"[{nom}]")


def loc(lang: str, where: tuple) -> list[Tok]:
    """Locative phrase tokens ("in Berlin", "в Берлине", "बर्लिन में")."""
    return list(phrase(place(lang, where)[1], "PROPN", "LOC", "LOC"))


def place_nom(lang: str, where: tuple) -> list[Tok]:
    """Nominative place-name tokens."""
    return list(phrase(f"[{place(lang, where)[0]}]", "PROPN", "LOC", "LOC"))


def noun(lang: str, n: int) -> tuple[tuple[str, ...], int, str | None]:
    """Return (forms, gender index 0/1, raw attribute) of object noun ``n``."""
    forms, attr = entry(NOUNS[n][1][LANG_INDEX[lang]])
    return forms, min(GENDER.get(attr, 0), 1), attr


# Form index rules per language (dispatch tables, default in ``.get``).
_VERB_FORM = {
    "en": lambda g, o, mode: 0 if mode == "pos" else 1,
    "ru": lambda g, o, mode: g,
    "ar": lambda g, o, mode: g + (2 if mode == "neg" else 0),
    "hi": lambda g, o, mode: o,  # ergative: the perfective agrees with the object
}
JOB_FORM = {"ar": lambda g, neg: 2 if neg and g == 0 else g}
ADJ_FORM = {"ru": lambda a, neg: a, "ar": lambda a, neg: min(a, 1) + 2 * neg}
BARE_FORM = {"ru": 3, "zh": 0, "ar": 0}  # "how many X": ru gen.pl, ar sg, zh bare


def verb(lang: str, v: int, g: int, o: int, mode: str) -> list[Tok]:
    """Verb form agreeing with subject ``g`` / object ``o``; ``mode`` is pos, neg or base."""
    forms = entry(VERBS[v][LANG_INDEX[lang]])[0]
    return [tok(pick(forms, _VERB_FORM.get(lang, lambda *_: 0)(g, o, mode)), role="V")]


def _num(lang: str, c: int, ng: int) -> Tok:
    return tok(pick(entry(NUMBERS[c][LANG_INDEX[lang]])[0], ng), "NUM", "NUM")


def _colour(lang: str, col: int, i: int) -> Tok:
    return tok(pick(entry(COLOURS[col][LANG_INDEX[lang]])[0], i), "ADJ")


def _np_default(lang, n, c, col, neg, adj_after=False):
    forms, ng, _ = noun(lang, n)
    out = [_num(lang, c, ng)] if c else []
    head = tok(forms[1], "NOUN", "OBJ")
    col_t = [_colour(lang, col, ng)] if col is not None else []
    return out + ([head] + col_t if adj_after else col_t + [head])


def _np_fr(lang, n, c, col, neg):
    art = [tok("de", "ADP")] if neg else ([] if c else [tok("des", "DET")])
    return art + _np_default(lang, n, c, col, neg, adj_after=True)


def _np_ru(lang, n, c, col, neg):
    forms, _, _ = noun(lang, n)
    # Numeral government: 3-4 take gen.sg, 5-6 gen.pl; adjectives gen.pl after numerals.
    noun_i = {3: 1, 4: 1, 5: 3, 6: 3}.get(c, 2)
    out = [_num(lang, c, 0)] if c else []
    out += [_colour(lang, col, 1 if c else 0)] if col is not None else []
    return out + [tok(forms[noun_i], "NOUN", "OBJ")]


def _np_zh(lang, n, c, col, neg):
    forms, _, cl = noun(lang, n)
    out = [_num(lang, c, 0), tok(cl, "NOUN")] if c else []
    out += [_colour(lang, col, 0), tok("的", "PART")] if col is not None else []
    return out + [tok(forms[0], "NOUN", "OBJ")]


_NP = {
    "es": partial(_np_default, adj_after=True),
    "fr": _np_fr,
    "ru": _np_ru,
    "zh": _np_zh,
    "ar": partial(_np_default, adj_after=True),
}


def noun_phrase(lang: str, n: int, c: int | None, col: int | None, neg: bool) -> list[Tok]:
    """Plural object NP with optional numeral ``c`` and colour ``col`` (agreement per language)."""
    return _NP.get(lang, _np_default)(lang, n, c, col, neg)


def words(text: str, role: str | None = None, tag_last: str | None = None) -> list[Tok]:
    """Split a multi-word form; with ``tag_last``, earlier words are ADV ("más alto")."""
    ws = text.split()
    return [
        tok(w, tag_last if k == len(ws) - 1 else "ADV" if tag_last else None, role)
        for k, w in enumerate(ws)
    ]


# ---------------------------------------------------------------- templates
@cache
def _parsed(lang: str, name: str) -> tuple:
    pieces = []
    for piece in TEMPLATES[lang][name].split():
        if piece.startswith("{"):
            j = piece.index("}")
            core, rest = piece[1:j], piece[j + 1 :].lstrip("/")
            tag, _, ccg = rest.partition("/")
            key, sep, opts = core.partition(":")
            kind = "alt" if sep else "slot"
            pieces.append((kind, key, tuple(opts.split("|")), tag or None, ccg or None))
        else:
            word, _, rest = piece.partition("/")
            tag, _, ccg = rest.partition("/")
            pieces.append(("lit", word, (), tag or None, ccg or None))
    return tuple(pieces)


def render(lang: str, name: str, slots: dict, keys: dict) -> list[Tok]:
    """Fill template ``name`` with slot tokens; ``keys`` select agreement alternatives."""
    out: list[Tok] = []
    for kind, a, opts, tag, ccg in _parsed(lang, name):
        if kind == "lit":
            out.append(Tok(a, tag, "O", ccg, None))
        elif kind == "alt":
            word = pick(opts, keys.get(a, 0))
            if word:
                out.append(Tok(word, tag, "O", ccg, None))
        else:  # filler tags win; the template's tag fills the gaps
            for t in slots[a]:
                if t.upos is None or (t.ccg is None and ccg):
                    t = t._replace(upos=t.upos or tag, ccg=t.ccg or ccg)
                out.append(t)
    return out


def finish(lang: str, toks: list[Tok]) -> list[Tok]:
    """Apply French elision and capitalise the sentence's first word."""
    toks = list(toks)
    if lang == "fr":  # elision: "de oignons" -> "d'oignons", "que Anna" -> "qu'Anna"
        for k in range(len(toks) - 1):
            if toks[k].text.lower() in _ELIDE and _VOWEL.match(toks[k + 1].text):
                toks[k] = toks[k]._replace(text=toks[k].text[:-1] + "'")
    for k, t in enumerate(toks):
        if t.text[:1].isalpha():
            toks[k] = t._replace(text=t.text[0].upper() + t.text[1:])
            break
    return toks


def join(lang: str, toks: list[Tok]) -> tuple[str, list[int]]:
    """Detokenise; return the text and each token's character offset (exact QA spans)."""
    parts, starts, pos, prev = [], [], 0, None
    for t in toks:
        glue = " "
        if (
            prev is None
            or lang == "zh"
            or t.text in _ATTACH_LEFT
            or prev in _ATTACH_RIGHT
            or prev.endswith("'")
        ):
            glue = ""
        pos += len(glue)
        starts.append(pos)
        parts.append(glue + t.text)
        pos += len(t.text)
        prev = t.text
    return "".join(parts), starts
