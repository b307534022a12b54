# Writes the charset corpus: one .eml per charset people send (WHATWG Encoding Standard
# names), with subject, sender name, body and an attachment name in that charset, and the
# expected JSON written from the Unicode source text (not from Petrel's output).
# Rerun: python3 make.py   (kept for review; the files it writes are committed)
import base64, json

CASES = [
    # (file, MIME charset, python codec, subject, sender name, body, attachment name)
    ("iso-2022-jp", "ISO-2022-JP", "iso2022_jp", "会議の議事録について", "山田 太郎", "お疲れ様です。\n明日の会議は十時からです。", "議事録.txt"),
    ("shift_jis", "Shift_JIS", "shift_jis", "見積書の送付", "佐藤 花子", "いつもお世話になっております。\n見積書をお送りします。", "見積書.txt"),
    ("euc-jp", "EUC-JP", "euc_jp", "日本語の件名", "鈴木 一郎", "こんにちは、世界。", "資料.txt"),
    ("gbk", "GBK", "gbk", "关于明天的会议", "王小明", "你好，明天上午十点开会。", "会议记录.txt"),
    ("gb18030", "GB18030", "gb18030", "项目进度报告", "李华", "项目进展顺利。€", "报告.txt"),
    ("big5", "Big5", "big5", "會議通知", "陳大文", "大家好，會議改到下午三點。", "通知.txt"),
    ("euc-kr", "EUC-KR", "euc_kr", "회의 일정 안내", "김철수", "안녕하세요. 회의는 오후 두 시입니다.", "일정.txt"),
    ("koi8-r", "KOI8-R", "koi8_r", "Отчёт за ноябрь", "Иван Петров", "Добрый день!\nОтчёт во вложении.", "отчёт.txt"),
    ("koi8-u", "KOI8-U", "koi8_u", "Привіт зі Львова", "Олена Коваль", "Ґанок і їжак.", "лист.txt"),
    ("windows-1250", "windows-1250", "cp1250", "Zažluťoučký kůň", "Jiří Novák", "Příliš žluťoučký kůň úpěl ďábelské ódy.", "přehled.txt"),
    ("windows-1251", "windows-1251", "cp1251", "Привет, мир", "Мария", "Съешь же ещё этих мягких французских булок.", "файл.txt"),
    ("windows-1252", "windows-1252", "cp1252", "Café – “quotes” €", "Zoë Ørsted", "¡El ñandú comió ñoquis! 5 €", "résumé.txt"),
    ("windows-1253", "windows-1253", "cp1253", "Καλημέρα", "Σωκράτης", "Ξεσκεπάζω την ψυχοφθόρα βδελυγμία.", "αρχείο.txt"),
    ("windows-1254", "windows-1254", "cp1254", "Toplantı notları", "Ayşe Yılmaz", "Pijamalı hasta yağız şoföre çabucak güvendi.", "notlar.txt"),
    ("windows-1255", "windows-1255", "cp1255", "שלום עולם", "דוד", "שלום לכולם.", "קובץ.txt"),
    ("windows-1256", "windows-1256", "cp1256", "مرحبا بالعالم", "أحمد", "صباح الخير.", "ملف.txt"),
    ("windows-1257", "windows-1257", "cp1257", "Labdien", "Jānis Bērziņš", "Mu hõljuk on angerjaid täis.", "fails.txt"),
    ("windows-1258", "windows-1258", "cp1258", "Xin chào", "Lê Văn", "Xin chào, cà phê.", "cà phê.txt"),
    ("iso-8859-1", "ISO-8859-1", "latin_1", "Grüße aus Köln", "Jürgen Groß", "Viele Grüße\nund schöne Woche.", "Übersicht.txt"),
    ("iso-8859-2", "ISO-8859-2", "iso8859_2", "Zażółć gęślą jaźń", "Łukasz", "Pchnąć w tę łódź jeża.", "łódź.txt"),
    ("iso-8859-5", "ISO-8859-5", "iso8859_5", "Здравствуйте", "Пётр", "Привет, мир", "файл.txt"),
    ("iso-8859-7", "ISO-8859-7", "iso8859_7", "Γειά σου Κόσμε", "Νίκος", "Γειά σου.", "αρχείο.txt"),
    ("iso-8859-15", "ISO-8859-15", "iso8859_15", "Prix : 5 €", "Élodie", "Œuvre à 5 €.", "œuvre.txt"),
    ("utf-7", "UTF-7", "utf_7", "文致出版社", "José", "Olá, 世界.", "doc.txt"),
]

def encoded_word(text, charset, codec):
    return f"=?{charset}?B?{base64.b64encode(text.encode(codec)).decode()}?="

for name, charset, codec, subject, sender, body, attachment in CASES:
    boundary = "petrel-charset-boundary"
    head = [
        f"From: {encoded_word(sender, charset, codec)} <sender@example.test>",
        "To: reader@example.test",
        f"Subject: {encoded_word(subject, charset, codec)}",
        f"Message-ID: <{name}@example.test>",
        "Date: Mon, 30 Nov 2026 09:00:00 +0000",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/mixed; boundary="{boundary}"',
    ]
    seven_bit = codec in ("iso2022_jp", "utf_7")
    part_body = body.replace("\n", "\r\n").encode(codec)
    cte = "7bit" if seven_bit else "8bit"
    parts = b"\r\n".join(l.encode() for l in head) + b"\r\n\r\n"
    parts += f"--{boundary}\r\nContent-Type: text/plain; charset={charset}\r\nContent-Transfer-Encoding: {cte}\r\n\r\n".encode()
    parts += part_body + b"\r\n"
    parts += f"--{boundary}\r\nContent-Type: text/plain; name=\"{encoded_word(attachment, charset, codec)}\"\r\nContent-Disposition: attachment; filename=\"{encoded_word(attachment, charset, codec)}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n".encode()
    parts += base64.b64encode(b"attached\r\n") + b"\r\n"
    parts += f"--{boundary}--\r\n".encode()
    open(f"{name}.eml", "wb").write(parts)
    json.dump({"subject": subject, "from": sender, "text": body, "attachments": [attachment]},
              open(f"{name}.json", "w", encoding="utf-8"), ensure_ascii=False, indent=1)

# An unknown charset and a lying one: the bytes are UTF-8; the text must still read.
for name, label in [("unknown-charset", "x-no-such-charset"), ("lying-charset", "us-ascii")]:
    body = "Grüße aus Zürich – 東京"
    raw = (f"From: sender@example.test\r\nTo: reader@example.test\r\nSubject: {name}\r\n"
           f"Message-ID: <{name}@example.test>\r\nDate: Mon, 30 Nov 2026 09:00:00 +0000\r\nMIME-Version: 1.0\r\n"
           f"Content-Type: text/plain; charset={label}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n").encode() + body.encode("utf-8") + b"\r\n"
    open(f"{name}.eml", "wb").write(raw)
    json.dump({"subject": name, "from": "sender@example.test", "text": body, "attachments": []},
              open(f"{name}.json", "w", encoding="utf-8"), ensure_ascii=False, indent=1)
